module github.com/zumo-go/zumo

go 1.25

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
