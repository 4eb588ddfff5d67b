// Package odata parses and evaluates the OData v3 query options that Azure
// Mobile Apps clients send ($filter, $orderby, $select), for zumotest's
// in-process fake backend and the offline package's local queries.
//
// # Evaluation model
//
// A $filter is evaluated against a row (map[string]any) the way Microsoft's
// azure-odata-sql translation would run on a SQL database:
//
//   - Row values may be nil, bool, float64, int64, int (and the other Go
//     integer and float types), json.Number, string, time.Time (or
//     *time.Time) and time.Duration. A missing key is null.
//   - Member paths "a/b" read the key "a/b" when the row has it; otherwise
//     they walk nested map[string]any values ("a", then "b"). A missing step
//     is null.
//   - "x eq null" is IS NULL and "x ne null" is IS NOT NULL (the null
//     literal may be on either side). Every other comparison, arithmetic or
//     function call with a null operand is null; and/or/not follow SQL's
//     three-valued logic; a row matches only when the filter is true.
//   - Numbers compare numerically whatever their kind (int, long, double,
//     decimal, json.Number), exactly for int64 against float64. Booleans
//     compare with numbers as 0 and 1, as a SQL bit column does. Decimal
//     literals (50.5M) are held as float64.
//   - Strings compare ordinally (byte-wise, case-sensitive). GUIDs compare
//     with GUIDs and strings case-insensitively. A string compared with a
//     datetime is parsed as RFC 3339 (no offset means UTC); if it does not
//     parse it is unequal to it (eq false, ne true, gt/ge/lt/le false).
//     Times compare by instant.
//   - Values of unrelated kinds (a string with a number, a boolean with a
//     string, …) are never equal: eq is false and ne is true; ordering them
//     (gt/ge/lt/le) is an *EvalError. Maps, slices and other Go values are
//     an *EvalError in any comparison, arithmetic or function call, except
//     "eq null"/"ne null" (they are not null).
//   - Arithmetic is numeric only; integer operations stay integral (with
//     truncating division, as SQL does for int operands) and report overflow
//     and division by zero as an *EvalError.
//   - and/or short-circuit: when the left operand decides the result, the
//     right one is not evaluated, so its run-time errors do not surface for
//     that row.
//
// # Syntax
//
// Keywords, operators and function names are lowercase and case-sensitive,
// as in OData v3; whitespace between tokens is free. The operator keywords
// (and, or, not, eq, ne, gt, ge, lt, le, add, sub, mul, div, mod) and the
// literals null, true and false cannot be used as member names; function
// names can (a member "year" is fine when not followed by "(").
// Precedence, lowest first: or; and; eq ne; gt ge lt le; add sub; mul div
// mod; unary - and not (so "not a eq b" is "(not a) eq b"). All binary
// operators are left-associative.
//
// Statically ill-typed filters (a literal of the wrong type for an operator
// or function, e.g. `(true add 1)`, `('a' eq 1)`, `length(1)`), unknown
// functions and wrong arity are rejected by ParseFilter with a
// *SyntaxError, as a SQL backend would reject the translated query.
package odata
