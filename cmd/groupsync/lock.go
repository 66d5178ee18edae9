package main

import "errors"

// errLocked means another run holds the lock file.
var errLocked = errors.New("another groupsync run holds the lock")
