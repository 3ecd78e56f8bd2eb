package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// op is the kind of a node in a compiled check tree.
type op uint8

const (
	opTrue    op = iota // "@" and the empty rule
	opFalse             // "!", checks without a colon, http(s) checks
	opNot               // not X
	opAnd               // X and Y ...
	opOr                // X or Y ...
	opRule              // rule:NAME
	opRole              // role:NAME
	opGeneric           // LEFT:RIGHT (oslo GenericCheck)
	opOwner             // tenant_id:%(...)s (neutron OwnerCheck)
	opField             // field:resource:attr=value (neutron FieldCheck)
)

// node is one element of a compiled check tree, the counterpart of oslo's
// BaseCheck hierarchy. Trees are built once, at load time, and are read-only
// afterwards (except for the one-time linking of opRule nodes).
type node struct {
	op   op
	kids []*node // opNot (one), opAnd, opOr

	// kind and match are the two halves of a leaf check as written; they
	// are what oslo prints for the check.
	kind, match string

	ref   *ruleEntry // opRule: the rule it names (or "default"), nil if none
	tmpl  template   // opRole, opGeneric: the RIGHT side
	lit   string     // opGeneric: str() of the literal LEFT side
	isLit bool       // opGeneric: LEFT is a Python literal
	cred  credKey    // opGeneric: the credential LEFT names
	path  []string   // opGeneric: LEFT split on '.'

	owner *ownerCheck // opOwner
	field *fieldCheck // opField
}

// String renders the node the way oslo's __str__ does: leaves as
// "kind:match", and/or lists wrapped in parentheses, "not X", "@", "!".
func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.op {
	case opTrue:
		b.WriteByte('@')
	case opFalse:
		if n.kind == "" {
			b.WriteByte('!')
		} else {
			b.WriteString(n.kind + ":" + n.match)
		}
	case opNot:
		b.WriteString("not ")
		n.kids[0].write(b)
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(n.kind)
		b.WriteByte(':')
		b.WriteString(n.match)
	}
}

// walk calls f for n and every node below it.
func (n *node) walk(f func(*node)) {
	f(n)
	for _, k := range n.kids {
		k.walk(f)
	}
}

var (
	trueNode  = &node{op: opTrue}
	falseNode = &node{op: opFalse}
)

// token kinds produced by tokenize, as in oslo's _parse_tokenize.
type tokKind uint8

const (
	tkLParen tokKind = iota
	tkRParen
	tkAnd
	tkOr
	tkNot
	tkString // a whole token in quotes: oslo yields it but no grammar rule uses it
	tkCheck
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a rule the way oslo does: on whitespace, peeling any
// leading '(' and trailing ')' off each word; "and", "or", "not" are
// operators in any letter case.
func tokenize(rule string) []token {
	var toks []token
	for _, word := range strings.FieldsFunc(rule, unicode.IsSpace) {
		clean := strings.TrimLeft(word, "(")
		for range len(word) - len(clean) {
			toks = append(toks, token{kind: tkLParen, text: "("})
		}
		if clean == "" {
			continue
		}
		word = clean
		clean = strings.TrimRight(word, ")")
		trail := len(word) - len(clean)
		switch strings.ToLower(clean) {
		case "and":
			toks = append(toks, token{kind: tkAnd, text: clean})
		case "or":
			toks = append(toks, token{kind: tkOr, text: clean})
		case "not":
			toks = append(toks, token{kind: tkNot, text: clean})
		case "":
		default:
			// oslo tests the quotes on the word before the trailing
			// parentheses are removed.
			if len(word) >= 2 && (word[0] == '"' && word[len(word)-1] == '"' ||
				word[0] == '\'' && word[len(word)-1] == '\'') {
				toks = append(toks, token{kind: tkString, text: word[1 : len(word)-1]})
			} else {
				toks = append(toks, token{kind: tkCheck, text: clean})
			}
		}
		for range trail {
			toks = append(toks, token{kind: tkRParen, text: ")"})
		}
	}
	return toks
}

// errSyntax is wrapped by every rule parse error.
var errSyntax = errors.New("invalid policy rule")

// parseRule compiles a rule written in the oslo.policy language. The empty
// rule always passes. Where oslo would log "Failed to understand rule" and
// fail closed, parseRule returns an error, so that a broken override is
// reported at startup instead of silently denying everything.
//
// Precedence follows oslo's parser: parentheses, then "not", then "and",
// then "or"; "a or b and c" is "a or (b and c)".
func parseRule(rule string) (*node, error) {
	if rule == "" {
		return trueNode, nil
	}
	p := parser{toks: tokenize(rule)}
	if len(p.toks) == 0 {
		// Whitespace only: oslo's parser ends with an empty stack.
		return nil, fmt.Errorf("%w: %q: empty expression", errSyntax, rule)
	}
	n, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", errSyntax, rule, err)
	}
	return n, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() (tokKind, bool) {
	if p.pos >= len(p.toks) {
		return 0, false
	}
	return p.toks[p.pos].kind, true
}

func (p *parser) or() (*node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		if k, ok := p.peek(); !ok || k != tkOr {
			break
		}
		p.pos++
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{op: opOr, kids: kids}, nil
}

func (p *parser) and() (*node, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		if k, ok := p.peek(); !ok || k != tkAnd {
			break
		}
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{op: opAnd, kids: kids}, nil
}

func (p *parser) unary() (*node, error) {
	k, ok := p.peek()
	if !ok {
		return nil, errors.New("unexpected end of rule")
	}
	t := p.toks[p.pos]
	switch k {
	case tkNot:
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{n}}, nil
	case tkLParen:
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if k, ok := p.peek(); !ok || k != tkRParen {
			return nil, errors.New("missing ')'")
		}
		p.pos++
		return n, nil
	case tkCheck:
		p.pos++
		return parseCheck(t.text)
	case tkString:
		return nil, fmt.Errorf("quoted string %q is not a check", t.text)
	default:
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
}

// parseCheck compiles one "kind:match" check (oslo's _parse_check plus the
// two checks Neutron registers, "tenant_id" and "field").
func parseCheck(s string) (*node, error) {
	switch s {
	case "!":
		return falseNode, nil
	case "@":
		return trueNode, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		// oslo: "Failed to understand rule", fails closed.
		return falseNode, nil
	}
	n := &node{kind: kind, match: match}
	switch kind {
	case "rule":
		n.op = opRule
	case "role":
		n.op = opRole
		t, err := parseTemplate(match)
		if err != nil {
			return nil, err
		}
		n.tmpl = t
	case "http", "https":
		// oslo's remote HttpCheck is not supported: fail closed.
		n.op = opFalse
	case "tenant_id":
		oc, err := newOwnerCheck(kind, match)
		if err != nil {
			return nil, err
		}
		n.op, n.owner = opOwner, oc
	case "field":
		fc, err := newFieldCheck(match)
		if err != nil {
			return nil, err
		}
		n.op, n.field = opField, fc
	default:
		n.op = opGeneric
		t, err := parseTemplate(match)
		if err != nil {
			return nil, err
		}
		n.tmpl = t
		if v, ok := pyfmt.Literal(kind); ok {
			n.lit, n.isLit = v, true
		} else {
			n.path = strings.Split(kind, ".")
			n.cred = credKeyOf(n.path[0])
		}
	}
	return n, nil
}
