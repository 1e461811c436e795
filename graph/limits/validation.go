package limits

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// MaxErrors is the most errors validation reports for one document, the last of them saying that
// validation stopped there (graphql-js stops at the same number, its maxErrors default). Without
// it, a 6 KB document of conflicting aliases drew 110,556 errors (28 MB).
const MaxErrors = 100

// GenericMessage replaces, while introspection is off, every validation message that would say
// something about the schema: a type, the type of a field, whether a field or argument exists,
// suggestions. Locations still point at what is wrong.
const GenericMessage = "the document is not valid for this server's schema (details are not given while introspection is disabled)"

// abortMessage is the last error of a document that has more than MaxErrors-1.
const abortMessage = "too many validation errors: validation stopped here"

// limitsRule names the rule that checks the limits. Rules run in the order of their names (the
// validator sorts them), so this name, sorting before every letter, puts it before gqlparser's.
const limitsRule = "0Limits"

// documentRules are gqlparser's rules whose messages speak only of the document itself (its
// operations, fragments, variables, repeated names): they stay as they are when introspection is
// off. Every other rule consults the schema, and its message is replaced by GenericMessage.
var documentRules = map[string]bool{
	limitsRule:                 true,
	"KnownFragmentNames":       true,
	"LoneAnonymousOperation":   true,
	"MaxIntrospectionDepth":    true,
	"NoFragmentCycles":         true,
	"NoUndefinedVariables":     true,
	"NoUnusedFragments":        true,
	"NoUnusedVariables":        true,
	"UniqueArgumentNames":      true,
	"UniqueFragmentNames":      true,
	"UniqueInputFieldNames":    true,
	"UniqueOperationNames":     true,
	"UniqueVariableNames":      true,
	"SingleFieldSubscriptions": true,
}

// withoutSuggestions are the rules that have a variant without "Did you mean …", used while
// introspection is off (their messages are replaced anyway; this spares computing suggestions).
var withoutSuggestions = map[string]core.Rule{
	rules.FieldsOnCorrectTypeRule.Name: rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
	rules.KnownArgumentNamesRule.Name:  rules.KnownArgumentNamesRuleWithoutSuggestions,
	rules.KnownTypeNamesRule.Name:      rules.KnownTypeNamesRuleWithoutSuggestions,
	rules.ScalarLeafsRule.Name:         rules.ScalarLeafsRuleWithoutSuggestions,
	rules.ValuesOfCorrectTypeRule.Name: rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
}

// Install adds the extension to srv and makes its validation rules the ones srv validates
// documents with. Use it instead of srv.Use: without the rules, the shape limits are not checked.
func (e *Extension) Install(srv *handler.Server) {
	srv.Use(e)
	srv.SetValidationRulesFn(e.ValidationRules)
	// gqlgen would otherwise swap in its own, unbounded, rules without suggestions by name; the
	// rules above already leave suggestions out while introspection is off.
	srv.SetDisableSuggestion(false)
}

// ValidationRules returns the rules to validate one document with (gqlgen calls it once per
// document it parses; documents it finds in its query cache passed them already): first the shape
// limits, then gqlparser's default rules, all sharing one error budget.
//
//   - The limits rule measures the whole document at the first node the validator visits. A
//     document it refuses gets that one error, and the other rules never see it.
//   - After MaxErrors-1 errors, one more says validation stopped, and the rules see no further
//     node (the walk goes on, but visits nobody). Errors past the budget are not even built.
//   - With introspection off, messages of the rules that consult the schema are replaced by
//     GenericMessage. (The error presenter cuts long messages, of these errors as of any.)
//
// Stopping works by emptying the walker's observers (core.Walker.Observers, which the walk reads
// at every node): a rule of gqlparser's has no other way to be told to stop.
func (e *Extension) ValidationRules() *rules.Rules {
	v := &validation{ext: e}
	out := rules.NewRules(core.Rule{Name: limitsRule, RuleFunc: v.limitsRule})
	for name, fn := range rules.NewDefaultRules().GetInner() {
		if r, ok := withoutSuggestions[name]; ok && e.cfg.NoIntrospection {
			fn = r.RuleFunc
		}
		out.AddRule(name, v.bounded(name, fn))
	}
	return out
}

// validation is the state of validating one document.
type validation struct {
	ext     *Extension
	walker  *core.Walker // set at the first node visited
	checked bool
	errors  int
	stopped bool
}

// limitsRule watches every kind of node, so that it runs at the first one visited, whatever it is
// (the validator visits an operation's variable definitions and directives before its fields).
func (v *validation) limitsRule(observers *core.Events, addError core.AddErrFunc) {
	first := func(w *core.Walker) {
		if v.checked {
			return
		}
		v.checked, v.walker = true, w
		if err := v.ext.check(w.Document); err != nil {
			addError(func(e *gqlerror.Error) {
				e.Message, e.Extensions = err.Message, err.Extensions
			})
			v.stop()
		}
	}
	observers.OnOperation(func(w *core.Walker, _ *ast.OperationDefinition) { first(w) })
	observers.OnField(func(w *core.Walker, _ *ast.Field) { first(w) })
	observers.OnFragment(func(w *core.Walker, _ *ast.FragmentDefinition) { first(w) })
	observers.OnInlineFragment(func(w *core.Walker, _ *ast.InlineFragment) { first(w) })
	observers.OnFragmentSpread(func(w *core.Walker, _ *ast.FragmentSpread) { first(w) })
	observers.OnDirective(func(w *core.Walker, _ *ast.Directive) { first(w) })
	observers.OnDirectiveList(func(w *core.Walker, _ []*ast.Directive) { first(w) })
	observers.OnValue(func(w *core.Walker, _ *ast.Value) { first(w) })
	observers.OnVariable(func(w *core.Walker, _ *ast.VariableDefinition) { first(w) })
}

// bounded wraps a rule so that its errors count against the document's budget and, with
// introspection off, say nothing of the schema.
func (v *validation) bounded(name string, fn core.RuleFunc) core.RuleFunc {
	generic := v.ext.cfg.NoIntrospection && !documentRules[name]
	return func(observers *core.Events, addError core.AddErrFunc) {
		fn(observers, func(options ...core.ErrorOption) {
			if v.stopped {
				return
			}
			if v.errors++; v.errors >= MaxErrors {
				addError(core.Message("%s", abortMessage))
				v.stop()
				return
			}
			if generic {
				options = append(options, func(e *gqlerror.Error) { e.Message = GenericMessage })
			}
			addError(options...)
		})
	}
}

// stop makes the rules see no further node of the document.
func (v *validation) stop() {
	v.stopped = true
	if v.walker != nil {
		v.walker.Observers = &core.Events{}
	}
}

// Presenter wraps the error presenter: with introspection off, an error in the value of a variable
// names the variable only, not the input field it found wrong (unknown field, must be defined),
// which would spell out input types field by field.
func (e *Extension) Presenter(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	if !e.cfg.NoIntrospection {
		return next
	}
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := next(ctx, err)
		if len(out.Path) >= 2 && out.Path[0] == ast.PathName("variable") {
			if name, ok := out.Path[1].(ast.PathName); ok {
				out.Path = out.Path[:2]
				out.Message = fmt.Sprintf("the value of variable $%s is not valid for its type (details are not given while introspection is disabled)", string(name))
			}
		}
		return out
	}
}
