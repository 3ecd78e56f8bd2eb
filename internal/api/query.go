package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// Query is a parsed list request.
type Query struct {
	// Fields are the requested fields (empty = all). The controller adds
	// what policy and pagination need and strips it again.
	Fields []string
	// NoFields: "fields=" with only empty values (Neutron answers {}).
	NoFields bool
	// Filters are attribute filters; values of one filter are ORed.
	Filters []Filter
	// Tags holds the tags/tags-any/not-tags/not-tags-any filters.
	Tags TagFilter
	// Sorts are the sort keys; with a Limit, the primary key is appended.
	Sorts       []Sort
	Limit       int
	Marker      string
	PageReverse bool
}

// Filter is one attribute filter.
type Filter struct {
	Attr   string
	Values []any // converted values; for list converters a single value
}

// Sort is one sort key.
type Sort struct {
	Key string
	Asc bool
}

// TagFilter holds the standard-attr-tag filters.
type TagFilter struct {
	All, Any, NotAll, NotAny []string
}

// Empty reports whether no tag filter is set.
func (t TagFilter) Empty() bool {
	return len(t.All) == 0 && len(t.Any) == 0 && len(t.NotAll) == 0 && len(t.NotAny) == 0
}

// Params is a query string in order, as webob's MultiDict keeps it.
type Params []Param

// Param is one key=value pair of a query string.
type Param struct{ Key, Value string }

// ParseParams splits a raw query string the way Python's parse_qsl does
// (keep_blank_values=True): '&'-separated, '+' is a space, and bad
// percent-escapes are kept literally.
func ParseParams(raw string) Params {
	var ps Params
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		ps = append(ps, Param{unescape(k), unescape(v)})
	}
	return ps
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, "+", " ")
}

// All returns every value of key (including empty ones).
func (ps Params) All(key string) []string {
	var out []string
	for _, p := range ps {
		if p.Key == key {
			out = append(out, p.Value)
		}
	}
	return out
}

// NonEmpty returns the non-empty values of key (neutron's list_args).
func (ps Params) NonEmpty(key string) []string {
	var out []string
	for _, p := range ps {
		if p.Key == key && p.Value != "" {
			out = append(out, p.Value)
		}
	}
	return out
}

// Get returns the last value of key, as webob's MultiDict.get does.
func (ps Params) Get(key string) (string, bool) {
	v, ok := "", false
	for _, p := range ps {
		if p.Key == key {
			v, ok = p.Value, true
		}
	}
	return v, ok
}

// Without returns a copy without key.
func (ps Params) Without(key string) Params {
	out := make(Params, 0, len(ps))
	for _, p := range ps {
		if p.Key != key {
			out = append(out, p)
		}
	}
	return out
}

// Encode renders ps like Python's urlencode (quote_plus).
func (ps Params) Encode() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

var reservedParams = map[string]bool{
	"fields": true, "sort_key": true, "sort_dir": true, "limit": true,
	"marker": true, "page_reverse": true,
}

// Keys of Neutron's SQLAlchemy base model class that get_filters skips
// silently (hasattr(model_base.BASEV2, key)).
var modelBaseAttrs = map[string]bool{
	"metadata": true, "registry": true, "get": true, "keys": true,
	"items": true, "update": true, "iteritems": true, "next": true,
}

// ParseQuery builds the Query of a list request on r (Neutron's _items:
// get_filters, get_sorts, get_limit_and_marker, get_page_reverse).
func (r *Resource) ParseQuery(ps Params, maxLimit int) (*Query, error) {
	if err := checkParamsText(ps); err != nil {
		return nil, err
	}
	q := &Query{Fields: ps.NonEmpty("fields")}
	if len(q.Fields) == 0 && len(ps.All("fields")) > 0 {
		q.NoFields = true // "fields=" asks for nothing
	}
	if err := r.parseFilters(ps, q); err != nil {
		return nil, err
	}
	if !r.NoSorting {
		if err := r.parseSorts(ps, q); err != nil {
			return nil, err
		}
	}
	if !r.NoPagination {
		if err := r.parsePagination(ps, maxLimit, q); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// parseFilters sets the attribute and tag filters of q (get_filters), in
// first-appearance order; a key that is not a filter is a 400.
func (r *Resource) parseFilters(ps Params, q *Query) error {
	var invalid []any
	seen := map[string]bool{}
	for _, p := range ps {
		key := p.Key
		if reservedParams[key] || modelBaseAttrs[key] || seen[key] {
			continue
		}
		seen[key] = true
		values := ps.All(key) // empty strings kept: empty-string-filtering
		if r.dropEmpty {
			values = slices.DeleteFunc(values, func(v string) bool { return v == "" })
		}
		switch key {
		case "tags", "tags-any", "not-tags", "not-tags-any":
			if r.Attr(key) == nil {
				invalid = append(invalid, key)
				continue
			}
			q.Tags.set(key, values)
			continue
		}
		a := r.filterAttr(key)
		if a == nil || !a.IsFilter {
			if !r.AnyFilter {
				invalid = append(invalid, key)
				continue
			}
			a = &Attribute{Name: key}
		}
		f, err := a.filter(key, values)
		if err != nil {
			return err
		}
		if len(f.Values) > 0 {
			q.Filters = append(q.Filters, f)
		}
	}
	if len(invalid) > 0 {
		return nerr.HTTPBadRequest("%s is invalid attribute for filtering", pyfmt.Repr(invalid))
	}
	return nil
}

// set sets the tag filter key from its comma-separated values.
func (t *TagFilter) set(key string, values []string) {
	var tags []string
	for _, v := range values {
		tags = append(tags, strings.Split(v, ",")...)
	}
	switch key {
	case "tags":
		t.All = tags
	case "tags-any":
		t.Any = tags
	case "not-tags":
		t.NotAll = tags
	case "not-tags-any":
		t.NotAny = tags
	}
}

// filter converts the query-string values of a filter on a (with its
// list converter, else its filter or value converter).
func (a *Attribute) filter(key string, values []string) (Filter, error) {
	f := Filter{Attr: key}
	if a.ConvertFilterList != nil {
		v, err := a.ConvertFilterList(values)
		if err != nil {
			return f, err
		}
		f.Values = []any{v}
		return f, nil
	}
	conv := a.ConvertFilter
	if conv == nil {
		conv = a.Convert
	}
	for _, s := range values {
		var v any = s
		if conv != nil {
			var err error
			if v, err = conv(s); err != nil {
				return f, err
			}
		}
		f.Values = append(f.Values, v)
	}
	return f, nil
}

// parseSorts sets the sort keys of q (get_sorts).
func (r *Resource) parseSorts(ps Params, q *Query) error {
	keys, dirs := ps.NonEmpty("sort_key"), ps.NonEmpty("sort_dir")
	if len(keys) != len(dirs) {
		return nerr.HTTPBadRequest("The number of sort_keys and sort_dirs must be same")
	}
	var badKeys, badDirs []any
	for _, k := range keys {
		if a := r.filterAttr(k); a == nil || !a.IsSortKey {
			badKeys = append(badKeys, k)
		}
	}
	if len(badKeys) > 0 {
		return nerr.HTTPBadRequest("%s is invalid attribute for sort_keys", pyfmt.Repr(badKeys))
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			badDirs = append(badDirs, d)
		}
	}
	if len(badDirs) > 0 {
		return nerr.HTTPBadRequest("%s is invalid value for sort_dirs, valid value is 'asc' and 'desc'", pyfmt.Repr(badDirs))
	}
	for i, k := range keys {
		q.Sorts = append(q.Sorts, Sort{Key: k, Asc: dirs[i] == "asc"})
	}
	return nil
}

// parsePagination sets limit, marker and page_reverse of q
// (get_limit_and_marker, get_page_reverse); a page is sorted by the
// primary key last.
func (r *Resource) parsePagination(ps Params, maxLimit int, q *Query) error {
	limit := 0
	if s, ok := ps.Get("limit"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return nerr.BadRequest("limit", "Limit must be an integer 0 or greater and not '"+s+"'")
		}
		limit = n
	}
	if maxLimit > 0 {
		if limit == 0 || limit > maxLimit {
			limit = maxLimit
		}
	}
	q.Limit = limit
	if limit > 0 {
		q.Marker, _ = ps.Get("marker")
		pk := r.PrimaryKey()
		has := false
		for _, s := range q.Sorts {
			has = has || s.Key == pk
		}
		if !has {
			q.Sorts = append(q.Sorts, Sort{Key: pk, Asc: true})
		}
	}
	if s, ok := ps.Get("page_reverse"); ok {
		q.PageReverse = strings.ToLower(s) == "true"
	}
	return nil
}

// filterAttr resolves a filter/sort key; project_id mirrors tenant_id
// (tenant_id mirrors a declared project_id).
func (r *Resource) filterAttr(key string) *Attribute {
	if a := r.Attr(key); a != nil {
		return a
	}
	if key == r.mirror {
		return r.owner
	}
	return nil
}

// Links builds <collection>_links as api_common.get_pagination_links does.
func Links(baseURL string, ps Params, items []Object, q *Query, pk string) []any {
	if q.Limit == 0 {
		return nil
	}
	var links []any
	if !(len(items) < q.Limit && !q.PageReverse) {
		p := ps.Without("marker")
		if len(items) > 0 {
			p = append(p, Param{"marker", pyfmt.Str(items[len(items)-1][pk])})
		}
		p = p.Without("page_reverse")
		links = append(links, map[string]any{"rel": "next", "href": baseURL + "?" + p.Encode()})
	}
	if !(len(items) < q.Limit && q.PageReverse) {
		p := ps.Without("marker")
		if len(items) > 0 {
			p = append(p, Param{"marker", pyfmt.Str(items[0][pk])})
		}
		p = append(p.Without("page_reverse"), Param{"page_reverse", "True"})
		links = append(links, map[string]any{"rel": "previous", "href": baseURL + "?" + p.Encode()})
	}
	return links
}
