package zumotest

import "github.com/zumo-go/zumo/internal/odata"

// The OData engine, behind short local names.
type (
	filterExpr = odata.Filter
	orderKey   = odata.OrderKey
)

var (
	parseFilter   = odata.ParseFilter
	parseOrderBy  = odata.ParseOrderBy
	parseSelect   = odata.ParseSelect
	compareValues = odata.Compare
)
