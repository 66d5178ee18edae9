package emulator

import "net/http"

// serveDropped answers a write as if it had been applied, then puts the
// state back as it was (DropRate): the success a client sees is one that
// a re-read contradicts. It holds dropMu exclusively, so that no other
// request's change is undone with it; ids handed out stay used.
func (s *Server) serveDropped(serve func()) {
	s.dropMu.Lock()
	defer s.dropMu.Unlock()
	s.mu.Lock()
	saved := s.db.snapshot()
	s.mu.Unlock()
	serve()
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.validateState(saved)
	if err != nil {
		panic("emulator: a snapshot of the state does not load again: " + err.Error())
	}
	db.nextGroupID = max(db.nextGroupID, s.db.nextGroupID)
	db.nextPhoneID = max(db.nextPhoneID, s.db.nextPhoneID)
	s.db = db
}

// dropWrite reports whether this write is to be dropped (DropRate).
func (s *Server) dropWrite(r *http.Request) bool {
	return r.Method != http.MethodGet && s.opts.DropRate > 0 && s.random() < s.opts.DropRate
}
