package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"groupsync/internal/plan"
)

// ReadYAML reads one YAML file of groups:
//
//	lox24:
//	  groups:
//	    - id: 12344
//	      name: My Clients
//	helloid:
//	  groups:
//	    - name: Sales
//
// name is the file's path as the user gave it: errors and Group.Source cite
// it, and the phones paths of LOX24 groups are resolved relative to its
// directory. The groups' member files are not read: Group.Phones holds File,
// Mode and Source only (Read loads them). An empty file has no groups.
//
// ReadYAML reports every error it finds, each with file, line and column.
// When there are errors, the groups returned are incomplete and must not be
// used, except to look for further errors.
func ReadYAML(name string, r io.Reader) ([]plan.Group, Errors) {
	groups, _, errs := readYAML(name, r)
	return groups, errs
}

// readYAML is ReadYAML that also returns the file's prune scopes, per system.
func readYAML(name string, r io.Reader) ([]plan.Group, map[plan.System]plan.Prune, Errors) {
	errs := &errorList{file: name}
	prune := map[plan.System]plan.Prune{}
	// A file of groups is small, and yaml.v3 builds the whole tree anyway;
	// holding the text lets errors that yaml.v3 gives without a line (bad
	// UTF-8, control characters) be placed.
	data, err := io.ReadAll(r)
	if err != nil {
		errs.add(0, 0, "", "%s", err)
		return nil, nil, errs.result()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		addYAMLError(errs, data, err)
		return nil, nil, errs.result()
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addYAMLError(errs, data, err)
	default:
		errs.add(next.Line, next.Column, "", "a second document: one file holds one document")
	}
	y := yamlReader{errs: errs, prune: prune, name: name}
	return y.file(&doc), prune, errs.result()
}

// addYAMLError records a syntax error from yaml.v3, which reads
// "yaml: line 3: what is wrong". Errors of the text itself (bad UTF-8,
// control characters) come without a line; they are placed by finding the
// first character of data that YAML does not allow.
func addYAMLError(errs *errorList, data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, m, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, m
			}
		}
	}
	if line == 0 {
		if l, col, what, found := badChar(data); found {
			errs.add(l, col, "", "%s", what)
			return
		}
	}
	errs.add(line, 0, "", "%s", msg)
}

// badChar finds the first character of data that a YAML stream may not
// hold (YAML 1.2, "5.1 Character Set", as yaml.v3 checks it): bytes that
// are not UTF-8, and control characters other than tab, line feed and
// carriage return. It returns the character's line and column (counted in
// characters) and what is wrong with it.
func badChar(data []byte) (line, col int, what string, found bool) {
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, col, "not valid UTF-8 (a file must be UTF-8 text)", true
		case r == '\n':
			line, col = line+1, 0
		case !allowedInYAML(r):
			return line, col, fmt.Sprintf("control character %U is not allowed", r), true
		}
		i += size
		col++
	}
	return 0, 0, "", false
}

// allowedInYAML reports whether r may stand in a YAML stream.
func allowedInYAML(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r < 0x20, r == 0x7F, r >= 0x80 && r < 0xA0:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}

// yamlReader walks the node tree of one YAML file.
type yamlReader struct {
	errs  *errorList
	prune map[plan.System]plan.Prune // filled by the prune: keys
	name  string                     // the file, as cited
}

// file reads the document: a mapping with lox24 and helloid sections.
func (y yamlReader) file(doc *yaml.Node) []plan.Group {
	if len(doc.Content) == 0 {
		return nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		y.wrongKind(root, "", "a mapping with lox24: and helloid:")
		return nil
	}
	var groups []plan.Group
	y.pairs(root, func(key string, keyNode, val *yaml.Node) {
		sys, err := plan.ParseSystem(key)
		if err != nil {
			y.errs.add(keyNode.Line, keyNode.Column, "", "unknown key %s (want %s or %s)", quote(key), plan.LOX24, plan.HelloID)
			return
		}
		groups = append(groups, y.system(sys, val)...)
	})
	return groups
}

// system reads one system's section: a mapping holding only groups.
func (y yamlReader) system(sys plan.System, n *yaml.Node) []plan.Group {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		y.wrongKind(n, string(sys), "a mapping with groups:")
		return nil
	}
	var groups []plan.Group
	y.pairs(n, func(key string, keyNode, val *yaml.Node) {
		if key == "prune" {
			y.readPrune(sys, keyNode, val)
			return
		}
		if key != "groups" {
			y.errs.add(keyNode.Line, keyNode.Column, "", "unknown key %s in %s (want groups or prune)", quote(key), sys)
			return
		}
		val = deref(val)
		if isNull(val) {
			return
		}
		if val.Kind != yaml.SequenceNode {
			y.wrongKind(val, "groups", "a list of groups")
			return
		}
		for _, item := range val.Content {
			item = deref(item)
			if item.Kind != yaml.MappingNode {
				y.wrongKind(item, "", "a group (a mapping of fields)")
				continue
			}
			groups = append(groups, y.group(sys, item))
		}
	})
	return groups
}

// readPrune reads a system's prune scope: {name_prefix: "HR "}.
func (y yamlReader) readPrune(sys plan.System, keyNode, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		y.wrongKind(n, "prune", "a mapping with name_prefix:")
		return
	}
	prefix, found := "", false
	y.pairs(n, func(key string, keyNode, val *yaml.Node) {
		if key != "name_prefix" {
			y.errs.add(keyNode.Line, keyNode.Column, "prune", "unknown key %q in prune (want name_prefix)", key)
			return
		}
		val = deref(val)
		if val.Kind != yaml.ScalarNode || isNull(val) || val.Tag != "!!str" {
			y.wrongKind(val, "name_prefix", "a text")
			return
		}
		switch v := val.Value; {
		case v == "":
			y.errs.add(val.Line, val.Column, "name_prefix", "empty: a prune scope needs a prefix (an empty one would delete every group no file names)")
		case strings.TrimSpace(v) == "":
			y.errs.add(val.Line, val.Column, "name_prefix", "only white space")
		default:
			// A prefix may end in spaces ("HR " keeps "HRM" out of scope);
			// otherwise it is text like a name.
			if msg := CheckText(strings.TrimRight(v, " "), plan.NameMax[sys]); msg != "" {
				y.errs.add(val.Line, val.Column, "name_prefix", "%s", msg)
				return
			}
			prefix, found = v, true
		}
	})
	if !found {
		if len(n.Content) == 0 {
			y.errs.add(n.Line, n.Column, "prune", "prune needs name_prefix")
		}
		return
	}
	y.prune[sys] = plan.Prune{NamePrefix: prefix, Source: plan.Source{File: y.name, Line: keyNode.Line}}
}

// group reads one group's mapping.
func (y yamlReader) group(sys plan.System, m *yaml.Node) plan.Group {
	b := newGroup(y.errs, sys, pos{m.Line, m.Column})
	y.pairs(m, func(key string, keyNode, val *yaml.Node) {
		at := pos{keyNode.Line, keyNode.Column}
		if key == "<<" {
			y.errs.add(at.line, at.col, "", "merge keys (<<) are not supported: write each field out")
			return
		}
		if !known(key) {
			y.errs.add(at.line, at.col, "", "unknown key %s%s", quote(key), suggest(key))
			return
		}
		if !b.accepts(key, at) {
			return
		}
		val = deref(val)
		vat := pos{val.Line, val.Column}
		switch {
		case key == fieldUsers && val.Kind == yaml.SequenceNode:
			b.setUserList(y.userList(val), at)
			return
		case key == fieldColumns:
			b.mark(key, vat)
			b.columns = y.columns(val)
			return
		case key == fieldPhones && val.Kind == yaml.MappingNode:
			b.mark(key, vat)
			if path, ok := y.fileRef(key, val, &b.dialect); ok {
				b.set(key, plan.Str(path), vat)
			}
			return
		case key == fieldUsers && val.Kind == yaml.MappingNode:
			b.mark(key, vat)
			if path, ok := y.fileRef(key, val, &b.usersDialect); ok {
				b.set(key, plan.Str(path), vat)
			}
			return
		}
		b.mark(key, vat)
		if v, ok := y.value(key, val); ok {
			b.set(key, v, vat)
		}
	})
	return b.finish()
}

// userList reads an inline list of users: userNames and/or userGuids, each
// cited by its own line. A user named twice is an error.
func (y yamlReader) userList(n *yaml.Node) []plan.UserRef {
	var list []plan.UserRef
	seen := map[string]int{}
	for _, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			y.wrongKind(item, fieldUsers, "a userName or userGuid")
			continue
		}
		if msg := CheckUser(item.Value); msg != "" {
			y.errs.add(item.Line, item.Column, fieldUsers, "%s", msg)
			continue
		}
		k := UserKey(item.Value)
		if first, dup := seen[k]; dup {
			y.errs.add(item.Line, item.Column, fieldUsers, "user %s is listed twice (first at line %d)", quote(item.Value), first)
			continue
		}
		seen[k] = item.Line
		list = append(list, plan.UserRef{Ref: item.Value, Source: plan.Source{File: y.errs.file, Line: item.Line}})
	}
	return list
}

// value turns a field's node into a Value: null, a boolean for boolean
// fields, the text as written for the others.
func (y yamlReader) value(field string, n *yaml.Node) (plan.Value, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		y.wrongKind(n, field, "a single value")
		return plan.Null, false
	}
	if isNull(n) {
		return plan.Null, true
	}
	if isBoolField(field) {
		var b bool
		if n.Tag != "!!bool" || n.Decode(&b) != nil {
			y.errs.add(n.Line, n.Column, field, "%s is not a boolean (want true or false)", quote(n.Value))
			return plan.Null, false
		}
		return plan.Bool(b), true
	}
	return plan.Str(n.Value), true
}

// fileRef reads a file reference written as a mapping,
// {path: clients.csv, delimiter: ";", encoding: windows-1252}, into its
// path and d.
func (y yamlReader) fileRef(field string, m *yaml.Node, d *Dialect) (string, bool) {
	var path string
	hasPath := false
	y.pairs(m, func(key string, keyNode, val *yaml.Node) {
		val = deref(val)
		if val.Kind != yaml.ScalarNode || isNull(val) {
			y.wrongKind(val, key, "a single value")
			return
		}
		switch key {
		case "path":
			path, hasPath = val.Value, true
		case "delimiter":
			r, err := ParseDelimiter(val.Value)
			if err != nil {
				y.errs.add(val.Line, val.Column, "delimiter", "%s", err)
				return
			}
			d.Delimiter = r
		case "encoding":
			if err := CheckEncoding(val.Value); err != nil {
				y.errs.add(val.Line, val.Column, "encoding", "%s", err)
				return
			}
			d.Encoding = strings.ToLower(val.Value)
		default:
			y.errs.add(keyNode.Line, keyNode.Column, "", "unknown key %q in %s (want path, delimiter or encoding)", key, field)
		}
	})
	if !hasPath {
		y.errs.add(m.Line, m.Column, field, "path: missing (required)")
	}
	return path, hasPath
}

// columns reads a mapping of LOX24's member fields to a member file's own
// headers: {phone: Mobile, a: First name}.
func (y yamlReader) columns(m *yaml.Node) map[string]string {
	if m.Kind != yaml.MappingNode {
		y.wrongKind(m, fieldColumns, "a mapping of phone, a..e, callback_data to the file's headers")
		return nil
	}
	out := map[string]string{}
	byHeader := map[string]string{}
	y.pairs(m, func(key string, keyNode, val *yaml.Node) {
		val = deref(val)
		if key != PhoneColumn && !slices.Contains(plan.PhoneColumns[:], key) {
			y.errs.add(keyNode.Line, keyNode.Column, fieldColumns, "unknown field %q (want phone, a..e or callback_data)", key)
			return
		}
		if val.Kind != yaml.ScalarNode || isNull(val) || strings.TrimSpace(val.Value) == "" {
			y.wrongKind(val, fieldColumns, "a header of the file")
			return
		}
		h := strings.TrimSpace(val.Value)
		if prev, dup := byHeader[h]; dup {
			y.errs.add(val.Line, val.Column, fieldColumns, "%s is mapped to both %s and %s", quote(h), prev, key)
			return
		}
		byHeader[h] = key
		out[key] = h
	})
	return out
}

// pairs calls fn for each key of mapping m, in order, after checking that the
// key is a plain name and not a repeat of an earlier key.
func (y yamlReader) pairs(m *yaml.Node, fn func(key string, keyNode, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			y.wrongKind(k, "", "a key name")
			continue
		}
		if first, ok := seen[k.Value]; ok {
			y.errs.add(k.Line, k.Column, "", "duplicate key %s (first at line %d)", quote(k.Value), first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

// wrongKind records that n is not what belongs there.
func (y yamlReader) wrongKind(n *yaml.Node, field, want string) {
	y.errs.add(n.Line, n.Column, field, "want %s, got %s", want, kindName(n))
}

// kindName names what a node is, for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return fmt.Sprintf("the value %s", quote(n.Value))
	}
	return "something else"
}

// deref follows aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is a null scalar (null, ~ or nothing).
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }
