// Package limits refuses GraphQL documents shaped to exhaust the server before they run: too large,
// too deep, too many aliases or directives, too costly, or batching several credential checks into
// one request. It is one gqlgen extension, so each rule is checked in one place and every refusal
// looks the same to clients:
//
//	extensions.code   GRAPHQL_VALIDATION_FAILED (HTTP 200 under application/json, 400 under
//	                  application/graphql-response+json)
//	extensions.reason one of the Reason* constants below
//
// Besides, a string argument with NUL characters or invalid UTF-8 is refused as BAD_USER_INPUT.
//
// A zero limit disables its rule.
package limits

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/model"
)

// Reasons sent as extensions.reason.
const (
	ReasonDocumentSize = "MAX_DOCUMENT_SIZE"
	ReasonDepth        = "MAX_DEPTH"
	ReasonAliases      = "MAX_ALIASES"
	ReasonDirectives   = "MAX_DIRECTIVES"
	ReasonComplexity   = "MAX_COMPLEXITY"
	// ReasonCredentialBatch refuses more than one password or refresh-token check per operation:
	// aliases would otherwise let one request try hundreds of passwords past a per-request limit.
	ReasonCredentialBatch = "CREDENTIAL_BATCH"
)

// Config sets the limits; zero disables a limit.
type Config struct {
	MaxDocumentBytes int // length of the query text, before it is parsed
	MaxDepth         int // fields on the longest path, leaf included ({ me { id } } is 2); introspection exempt
	MaxAliases       int // aliased fields, __typename exempt, counted through fragments
	MaxDirectives    int // directives used, counted through fragments
	MaxComplexity    int // cost from the schema's complexity functions (extension.FixedComplexityLimit)
	// OncePerOperation are root fields of which an operation may hold one, aliases and fragments
	// included: one in total, not one of each.
	OncePerOperation []string
	// NoIntrospection refuses documents that select __schema or __type anywhere, as a validation
	// error, before anything runs (gqlgen would otherwise fail those fields one by one as they run).
	NoIntrospection bool
}

// Extension enforces Config. Add it to a handler.Server with Use.
type Extension struct {
	cfg        Config
	once       map[string]bool
	complexity *extension.ComplexityLimit
}

var (
	_ graphql.HandlerExtension          = (*Extension)(nil)
	_ graphql.OperationParameterMutator = (*Extension)(nil)
	_ graphql.OperationContextMutator   = (*Extension)(nil)
)

// New returns the extension for cfg.
func New(cfg Config) *Extension {
	e := &Extension{cfg: cfg, once: map[string]bool{}}
	for _, f := range cfg.OncePerOperation {
		e.once[f] = true
	}
	if cfg.MaxComplexity > 0 {
		e.complexity = extension.FixedComplexityLimit(cfg.MaxComplexity)
	}
	return e
}

// ExtensionName implements graphql.HandlerExtension.
func (e *Extension) ExtensionName() string { return "Limits" }

// Validate implements graphql.HandlerExtension.
func (e *Extension) Validate(schema graphql.ExecutableSchema) error {
	if e.complexity != nil {
		return e.complexity.Validate(schema)
	}
	return nil
}

// MutateOperationParameters checks the size of the document before the parser sees it.
func (e *Extension) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if max := e.cfg.MaxDocumentBytes; max > 0 && len(p.Query) > max {
		return refuse(ReasonDocumentSize, "the query document is %d bytes, more than the limit of %d", len(p.Query), max)
	}
	return nil
}

// check refuses a parsed document that breaks a limit of its shape. It runs as the first
// validation rule (see ValidationRules), before gqlparser's own rules: those report an error per
// offending field, directive or pair of fields, and OverlappingFieldsCanBeMerged compares fields
// pairwise, so a document they would refuse anyway must not reach them. Every operation is
// measured, and every fragment definition on its own (the rules validate unused fragments too);
// which operation will run is not known yet.
func (e *Extension) check(doc *ast.QueryDocument) *gqlerror.Error {
	w := walker{fragments: doc.Fragments, memo: map[string]shape{}}
	var all shape
	for _, op := range doc.Operations {
		s := w.selections(op.SelectionSet)
		s.directives = sat(s.directives + len(op.Directives))
		for _, v := range op.VariableDefinitions {
			s.directives = sat(s.directives + len(v.Directives))
		}
		all = all.worst(s)
	}
	for _, def := range doc.Fragments {
		all = all.worst(w.definition(def))
	}
	switch {
	case e.cfg.MaxDepth > 0 && all.depth > e.cfg.MaxDepth:
		return refuse(ReasonDepth, "the query is %d levels deep, more than the limit of %d", all.depth, e.cfg.MaxDepth)
	case e.cfg.MaxAliases > 0 && all.aliases > e.cfg.MaxAliases:
		return refuse(ReasonAliases, "the query uses %d aliases, more than the limit of %d", all.aliases, e.cfg.MaxAliases)
	case e.cfg.MaxDirectives > 0 && all.directives > e.cfg.MaxDirectives:
		return refuse(ReasonDirectives, "the query uses %d directives, more than the limit of %d", all.directives, e.cfg.MaxDirectives)
	}
	if e.cfg.NoIntrospection && all.introspection {
		err := gqlerror.Errorf("introspection is disabled on this server")
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	if len(e.once) > 0 {
		for _, op := range doc.Operations {
			counts := map[string]int{}
			w.rootFields(op.SelectionSet, counts, map[string]bool{})
			total := 0
			for name, n := range counts {
				if e.once[name] {
					total += n
				}
			}
			if total > 1 {
				return refuse(ReasonCredentialBatch, "an operation may hold only one of %s; found %d", strings.Join(e.cfg.OncePerOperation, ", "), total)
			}
		}
	}
	if max := e.cfg.MaxComplexity; max > 0 && all.fields > max {
		// Refused before gqlgen's cost walk, which expands fragments spread in fan-out without
		// memoising: a 2 KB document of fragment pairs spreading the next pair took it seconds.
		return refuse(ReasonComplexity, "the query selects %d fields once its fragments are expanded, more than the cost limit of %d", all.fields, max)
	}
	return nil
}

// MutateOperationContext checks what depends on the variables of the operation about to run:
// its strings and its cost. The shape of the document was checked as it was validated (check).
func (e *Extension) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if !cleanArguments(op.Operation, op.Variables) {
		// A typed input error: the error presenter gives it its code, as it does a resolver's.
		return gqlerror.WrapIfUnwrapped(&model.InputError{Message: "string arguments must be valid UTF-8 without NUL characters"})
	}
	if e.complexity != nil {
		if err := e.complexity.MutateOperationContext(ctx, op); err != nil {
			stats := extension.GetComplexityStats(graphql.WithOperationContext(ctx, op))
			if stats == nil {
				return refuse(ReasonComplexity, "the query is too complex")
			}
			return refuse(ReasonComplexity, "the query has a cost of %d, more than the limit of %d: ask for fewer items (products(first:)) or less nesting", stats.Complexity, stats.ComplexityLimit)
		}
	}
	return nil
}

// refuse builds the error every limit reports.
func refuse(reason, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	err.Extensions["reason"] = reason
	return err
}

// shape is what the limits measure of a selection set, as if its fragments were expanded.
type shape struct {
	depth, aliases, directives int
	// fields counts the fields; every field costs at least 1, so it is a lower bound of the cost
	// that is cheap to compute (gqlgen's own cost walk expands fragments without memoising).
	fields int
	// typenameAliases are aliased __typename fields, exempt from the alias limit except under
	// __schema or __type, where they would multiply an introspection answer.
	typenameAliases int
	introspection   bool // selects __schema or __type somewhere
}

// worst is the largest of each measure of s and t: a document is refused if any one of its
// operations or fragments is.
func (s shape) worst(t shape) shape {
	return shape{
		depth: max(s.depth, t.depth), aliases: max(s.aliases, t.aliases), directives: max(s.directives, t.directives),
		fields: max(s.fields, t.fields), introspection: s.introspection || t.introspection,
	}
}

// walker measures selection sets. Each fragment is measured once and its shape reused at every
// spread, so that a document of fragments spreading each other many times costs linear time to
// measure, while the counts are those of the expanded query (what execution would pay for).
// A fragment cycle counts its fragments once; validation (NoFragmentCycles) then refuses it.
type walker struct {
	fragments ast.FragmentDefinitionList
	memo      map[string]shape
	visiting  map[string]bool
}

func (w *walker) selections(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var s shape
		switch sel := sel.(type) {
		case *ast.Field:
			s = w.field(sel)
		case *ast.InlineFragment:
			s = w.selections(sel.SelectionSet)
			s.directives = sat(s.directives + len(sel.Directives))
		case *ast.FragmentSpread:
			s = w.fragment(sel.Name)
			s.directives = sat(s.directives + len(sel.Directives))
		}
		out.depth = max(out.depth, s.depth)
		out.aliases = sat(out.aliases + s.aliases)
		out.directives = sat(out.directives + s.directives)
		out.fields = sat(out.fields + s.fields)
		out.typenameAliases = sat(out.typenameAliases + s.typenameAliases)
		out.introspection = out.introspection || s.introspection
	}
	return out
}

func (w *walker) field(f *ast.Field) shape {
	s := w.selections(f.SelectionSet)
	switch f.Name {
	case "__schema", "__type":
		s = s.introspective()
	default:
		s.depth++
	}
	if f.Alias != f.Name {
		if f.Name == "__typename" {
			s.typenameAliases = sat(s.typenameAliases + 1)
		} else {
			s.aliases = sat(s.aliases + 1)
		}
	}
	s.directives = sat(s.directives + len(f.Directives))
	s.fields = sat(s.fields + 1)
	return s
}

// introspective is the shape of a selection of the introspection types (under __schema or __type).
// gqlparser's MaxIntrospectionDepth rule bounds introspection nesting; tools such as GraphiQL send
// a standard introspection query deeper than any sensible data query. Aliased __typename counts
// as an alias there: it would multiply every type and field of the answer.
func (s shape) introspective() shape {
	s.depth = 0
	s.aliases = sat(s.aliases + s.typenameAliases)
	s.typenameAliases = 0
	s.introspection = true
	return s
}

func (w *walker) fragment(name string) shape {
	if s, ok := w.memo[name]; ok {
		return s
	}
	def := w.fragments.ForName(name)
	if def == nil || w.visiting[name] {
		return shape{} // unknown or cyclic: validation reports it
	}
	if w.visiting == nil {
		w.visiting = map[string]bool{}
	}
	w.visiting[name] = true
	s := w.selections(def.SelectionSet)
	s.directives = sat(s.directives + len(def.Directives))
	delete(w.visiting, name)
	w.memo[name] = s
	return s
}

// definition measures a fragment definition on its own, from its own root. A definition whose name
// an earlier one already has (which validation refuses) is measured as well, without the memo.
// A fragment on an introspection type (__Type, __Field…) is measured as a selection under __schema.
func (w *walker) definition(def *ast.FragmentDefinition) shape {
	var s shape
	if w.fragments.ForName(def.Name) == def {
		s = w.fragment(def.Name)
	} else {
		s = w.selections(def.SelectionSet)
		s.directives = sat(s.directives + len(def.Directives))
	}
	if strings.HasPrefix(def.TypeCondition, "__") {
		s = s.introspective()
	}
	return s
}

// rootFields counts the operation's root fields by name, looking through fragments and inline
// fragments at the root (which select on the root type as well).
func (w *walker) rootFields(set ast.SelectionSet, counts map[string]int, seen map[string]bool) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			counts[sel.Name]++
		case *ast.InlineFragment:
			w.rootFields(sel.SelectionSet, counts, seen)
		case *ast.FragmentSpread:
			if def := w.fragments.ForName(sel.Name); def != nil && !seen[sel.Name] {
				// A fragment spread twice selects its fields once (the selections merge), so it
				// counts once.
				seen[sel.Name] = true
				w.rootFields(def.SelectionSet, counts, seen)
			}
		}
	}
}

// cleanArguments reports whether every string the operation passes, in variables or written in
// the document, is valid UTF-8 without NUL. No stored value can contain either (PostgreSQL cannot
// store NUL, the store refuses both on write), and passing them to a lookup would at best be
// wasted and at worst reach the SQL driver, which ends strings at NUL.
func cleanArguments(op *ast.OperationDefinition, vars map[string]any) bool {
	return cleanValue(vars) && cleanSelections(op.SelectionSet, map[*ast.FragmentDefinition]bool{})
}

func cleanSelections(set ast.SelectionSet, seen map[*ast.FragmentDefinition]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, a := range sel.Arguments {
				if !cleanLiteral(a.Value) {
					return false
				}
			}
			if !cleanSelections(sel.SelectionSet, seen) {
				return false
			}
		case *ast.InlineFragment:
			if !cleanSelections(sel.SelectionSet, seen) {
				return false
			}
		case *ast.FragmentSpread:
			if def := sel.Definition; def != nil && !seen[def] {
				seen[def] = true
				if !cleanSelections(def.SelectionSet, seen) {
					return false
				}
			}
		}
	}
	return true
}

func cleanLiteral(v *ast.Value) bool {
	if v == nil {
		return true
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return cleanString(v.Raw)
	}
	for _, c := range v.Children {
		if !cleanLiteral(c.Value) {
			return false
		}
	}
	return true
}

func cleanValue(v any) bool {
	switch v := v.(type) {
	case string:
		return cleanString(v)
	case map[string]any:
		for k, x := range v {
			if !cleanString(k) || !cleanValue(x) {
				return false
			}
		}
	case []any:
		for _, x := range v {
			if !cleanValue(x) {
				return false
			}
		}
	}
	return true
}

func cleanString(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// sat adds up counts without overflowing: anything past a billion is over every limit anyway.
func sat(n int) int { return min(n, 1<<30) }
