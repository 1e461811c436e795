package main

import (
	"bytes"
	"fmt"
	"go/format"
	"regexp"
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
