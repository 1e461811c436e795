package graph

import "github.com/shopql/shopql/store"

// Assumed sizes of the lists the schema does not page, used only to cost a query before it runs.
// They are deliberately rough: the point is that nesting lists inside lists multiplies the cost, so
// that an amplification query (every product's category's products, and so on) is refused up front.
const (
	assumedCategories         = 10 // categories
	assumedProductsInCategory = 20 // Category.products
	assumedUsers              = 50 // users (admins only)
)

// Complexity returns the cost functions for extension.FixedComplexityLimit. A field costs 1 plus its
// children, and a list field costs its children once per item it may return: products by its first
// argument, the unpaged lists by the sizes assumed above.
func Complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Products = func(child int, first *int, _ *string, _ *int64) int {
		return 1 + child*pageSize(first)
	}
	c.Query.Categories = func(child int) int { return 1 + child*assumedCategories }
	c.Query.Users = func(child int) int { return 1 + child*assumedUsers }
	c.Category.Products = func(child int) int { return 1 + child*assumedProductsInCategory }
	return c
}

// pageSize is the number of items products(first:) may return. Out-of-range values are costed as
// the nearest valid one: the store refuses them anyway (BAD_USER_INPUT), and the cost must not overflow.
func pageSize(first *int) int {
	if first == nil {
		return store.DefaultPageSize
	}
	return min(max(*first, 1), store.MaxPageSize)
}
