package plan

// NewPhone is NewPhoneBytes for a number held in a string; the readers never
// have one, so only tests use it.
func NewPhone(number string, cols []string, line int) Phone {
	s := pack(number, nil, cols)
	return Phone{Number: s[:len(number)], Cols: Columns{packed: s[len(number):]}, Line: line}
}
