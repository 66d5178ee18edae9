// Package source reads groupsync's desired state from files: YAML and CSV
// files of groups, and the CSV member lists (phones) of LOX24 groups. It turns
// them into plan types and checks every limit of the APIs before any request
// is sent; it knows nothing of HTTP.
//
// Read is the entry point. It reports every input error it finds, each with
// the file and line (and, for YAML, the column) it stands on, so that a user
// can fix a file in one go. A field that a file does not mention is left out
// of plan.Group.Fields (unmanaged); a field set to null (YAML) or an empty
// cell (CSV, nullable text fields) is plan.Null and clears the field.
//
// Member files can hold a million rows: ReadPhones streams them and keeps only
// the parsed entries.
package source
