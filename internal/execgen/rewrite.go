package main

import (
	"bytes"
	"fmt"
	"go/format"
	"regexp"
	"strings"
)

// A rewrite replaces every match of find in gqlgen's output. all matches every occurrence of the
// construct the rewrite is about, in whatever shape: if it finds more than find does, gqlgen has
// produced a variant the rewrite does not know (another worker limit, a panic handler setting, a
// changed body), and generation fails instead of leaving some sites unpatched.
type rewrite struct {
	name    string
	find    *regexp.Regexp
	replace string
	all     *regexp.Regexp
}

var rewrites = []rewrite{
	{
		// Lists of objects: sequential when the selection under the list is synchronous.
		name: "sequential lists",
		find: regexp.MustCompile(`(?m)^(\t+)ret := graphql\.MarshalSliceConcurrently\(ctx, len\(v\), 0, false, func\(ctx context\.Context, i int\) graphql\.Marshaler \{\n` +
			`(\t+fc := graphql\.GetFieldContext\(ctx\)\n\t+fc\.Result = &v\[i\]\n)`),
		replace: "${1}ret := marshalList(ctx, sel, len(v), func(ctx context.Context, i int) graphql.Marshaler {\n${2}",
		all:     regexp.MustCompile(`MarshalSliceConcurrently\(`),
	},
	{
		// Responses: written into a buffer of the size of the operation's last response.
		name:    "response buffers sized",
		find:    regexp.MustCompile(`(?m)^(\t+)var buf bytes\.Buffer\n\t+data\.MarshalGQL\(&buf\)\n\t+response\.Data = buf\.Bytes\(\)\n`),
		replace: "${1}response.Data = marshalResponse(opCtx.Operation, data)\n",
		all:     regexp.MustCompile(`(?m)^\t+var buf bytes\.Buffer\n\t+data\.MarshalGQL\(&buf\)\n\t+response\.`),
	},
	{
		// Collected fields: memoised per operation without gqlgen's per-call key allocation.
		name:    "collected fields memo",
		find:    regexp.MustCompile(`\bgraphql\.CollectFields\(ec\.OperationContext, sel, (\w+Implementors)\)`),
		replace: "ec.collected.fields(ec.OperationContext, sel, ${1})",
		all:     regexp.MustCompile(`\bCollectFields\(`),
	},
	{
		// The executor's per-operation state: the memo of collected fields.
		name:    "collected fields memo (state)",
		find:    regexp.MustCompile(`(?m)^type executionContext struct \{\n\t\*graphql\.ExecutionContextState\[ResolverRoot, DirectiveRoot, ComplexityRoot\]\n\}\n`),
		replace: "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n\tcollected collectedFieldsMemo\n}\n",
		all:     regexp.MustCompile(`(?m)^type executionContext struct`),
	},
	{
		// Objects: no deferred group unless a field of the object is deferred.
		name:    "deferred groups on demand",
		find:    regexp.MustCompile(`(?m)^(\t+)out := graphql\.NewFieldSet\(fields\)\n\t+deferred := graphql\.NewDeferredGroup\(ctx\)\n`),
		replace: "${1}out := graphql.NewFieldSet(fields)\n${1}deferred := newDeferredGroup(ctx, fields)\n",
		all:     regexp.MustCompile(`NewDeferredGroup\(`),
	},
}

// deferredUse matches every use of the generated variable `deferred`; deferredUses are the only
// ones the zero group of newDeferredGroup supports (every field it could reach is not deferred).
var (
	deferredUse  = regexp.MustCompile(`(?m)^.*\bdeferred\b.*$`)
	deferredUses = []*regexp.Regexp{
		regexp.MustCompile(`^\t+deferred := newDeferredGroup\(ctx, fields\)$`),
		regexp.MustCompile(`^\t+if n := len\(deferred\.Defers\); n > 0 \{$`),
		regexp.MustCompile(`^\t+ec\.ProcessDeferredGroup\(deferred\)$`),
		regexp.MustCompile(`^\t+out\.ResolveConcurrently\(ec\.OperationContext, &deferred, i,$`),
	}
)

// Rewrite applies the rewrites to gqlgen's executor source. It fails unless each rewrite finds at
// least one site and every occurrence of its construct has the expected shape, and unless the
// deferred group is used only in the ways that the zero group supports.
func Rewrite(src []byte) ([]byte, error) {
	for _, r := range rewrites {
		found := len(r.find.FindAllIndex(src, -1))
		all := len(r.all.FindAllIndex(src, -1))
		switch {
		case found == 0:
			return nil, fmt.Errorf("%s: no site of the expected shape %q: gqlgen's output has changed, review the rewrite", r.name, r.find)
		case found != all:
			return nil, fmt.Errorf("%s: %d of %d occurrences of %q have the expected shape: gqlgen's output has changed, review the rewrite", r.name, found, all, r.all)
		}
		src = r.find.ReplaceAll(src, []byte(r.replace))
	}
	src, err := rewriteObjectReturns(src)
	if err != nil {
		return nil, err
	}
	if src, err = rewritePlainFields(src); err != nil {
		return nil, err
	}
	for _, line := range deferredUse.FindAll(src, -1) {
		if !matchesAny(line, deferredUses) && !bytes.HasPrefix(bytes.TrimSpace(line), []byte("//")) {
			return nil, fmt.Errorf("deferred groups on demand: unexpected use of the deferred group %q: review the rewrite", bytes.TrimSpace(line))
		}
	}
	return format.Source(src)
}

func matchesAny(line []byte, res []*regexp.Regexp) bool {
	for _, re := range res {
		if re.Match(line) {
			return true
		}
	}
	return false
}

// Objects: an object marshaller ends with `return out`, the *graphql.FieldSet, whose MarshalGQL
// allocates a map and iterators per object (and a copy of each field) to write it. The rewrite
// returns an *objectFields instead, which writes the same JSON. An object none of whose fields is
// scheduled on the field set (every field resolved in line: only syncUses below touch `out`)
// builds no field set at all: `out := newObjectFields(fields)` holds the values (in the same
// allocation, for a small object), its Dispatch, which has nothing to run, goes, and `return out`
// stays. Any other object keeps its field set and returns &objectFields{fields: fields, Values:
// out.Values}. It applies to every function that builds `out := graphql.NewFieldSet(fields)`; each
// must end in exactly one `return out`, and no other function may return `out`.
const (
	fieldSetLine    = "\tout := graphql.NewFieldSet(fields)\n"
	objectFieldLine = "\tout := newObjectFields(fields)\n"
	dispatchLine    = "\tout.Dispatch(ctx)\n"
	returnOut       = "\n\treturn out\n}"
	returnFields    = "\n\treturn &objectFields{fields: fields, Values: out.Values}\n}"
)

var (
	outUse   = regexp.MustCompile(`(?m)^.*\bout\b.*$`)
	syncUses = []*regexp.Regexp{
		regexp.MustCompile(`^\tout := graphql\.NewFieldSet\(fields\)$`),
		regexp.MustCompile(`^\t+out\.Values\[i\] = (graphql\.MarshalString\("\w+"\)|ec\.\w+\(ctx, field, obj\))$`),
		regexp.MustCompile(`^\t+if out\.Values\[i\] == graphql\.(Null|RequiredNull) \{$`),
		regexp.MustCompile(`^\t+out\.Invalids\+\+$`),
		regexp.MustCompile(`^\t+atomic\.AddUint32\(&out\.Invalids, 1\)$`),
		regexp.MustCompile(`^\tout\.Dispatch\(ctx\)$`),
		regexp.MustCompile(`^\tif out\.Invalids > 0 \{$`),
		regexp.MustCompile(`^\treturn out$`),
	}
)

func rewriteObjectReturns(src []byte) ([]byte, error) {
	funcs := strings.Split(string(src), "\nfunc ")
	rewritten, inLine := 0, 0
	for i, f := range funcs {
		end := strings.Index(f, "\n}\n") // the function's closing brace, in column 0
		if end < 0 {
			end = len(f) - 2
		}
		body := f[:end+2]
		builds, returns := strings.Contains(body, fieldSetLine), strings.Count(body, "\treturn out\n")
		switch {
		case !builds && returns == 0:
			continue
		case !builds:
			return nil, fmt.Errorf("object fields: a function returns out without building a field set: %.80q", f)
		case returns != 1 || !strings.HasSuffix(body, returnOut):
			return nil, fmt.Errorf("object fields: a function building a field set does not end in one `return out`: %.80q", f)
		}
		if allMatch(outUse.FindAllString(body, -1), syncUses) && strings.Count(body, dispatchLine) == 1 {
			body = strings.Replace(body, fieldSetLine, objectFieldLine, 1)
			funcs[i] = strings.Replace(body, dispatchLine, "", 1) + f[end+2:]
			inLine++
		} else {
			funcs[i] = strings.TrimSuffix(body, returnOut) + returnFields + f[end+2:]
		}
		rewritten++
	}
	if rewritten == 0 || inLine == 0 {
		return nil, fmt.Errorf("object fields: no object marshaller (or none resolved in line) of the expected shape: gqlgen's output has changed, review the rewrite")
	}
	return []byte(strings.Join(funcs, "\nfunc ")), nil
}

func allMatch(lines []string, res []*regexp.Regexp) bool {
	for _, line := range lines {
		if !matchesAny([]byte(line), res) {
			return false
		}
	}
	return true
}
