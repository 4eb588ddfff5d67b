package main

import (
	"bytes"

	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/zumo-go/zumo"
)

func newAPICmd(g *globals) *cobra.Command {
	var method, data string
	var params []string
	cmd := &cobra.Command{
		Use:   "api NAME [--method M] [--data JSON|@FILE|-] [--param k=v]...",
		Short: "Call a custom API and print its answer",
		Long: `api calls /api/NAME and prints the answer's body as it is. The method is GET
without --data and POST with it, unless --method says otherwise.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []zumo.APIOption
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return usagef("--param wants key=value, got %q", p)
				}
				opts = append(opts, zumo.WithParam(k, v))
			}
			var body io.Reader
			if data != "" {
				b, err := readData(g, data)
				if err != nil {
					return err
				}
				body = bytes.NewReader(b)
			}
			m := strings.ToUpper(method)
			if m == "" {
				m = http.MethodGet
				if body != nil {
					m = http.MethodPost
				}
			}
			opts = append(opts, zumo.WithMethod(m))
			c, err := g.client()
			if err != nil {
				return err
			}
			ctype := ""
			if body != nil {
				ctype = "application/json"
			}
			resp, err := c.InvokeAPIRaw(cmd.Context(), args[0], body, ctype, opts...)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			_, err = g.io.out.Write(b)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&method, "method", "", "the HTTP method (default GET, or POST with --data)")
	fl.StringVar(&data, "data", "", "the request body: JSON text, @FILE, or - for stdin")
	fl.StringArrayVar(&params, "param", nil, "a query parameter key=value (repeatable)")
	return cmd
}

// readData reads --data: literal text, @FILE or - (stdin).
func readData(g *globals, data string) ([]byte, error) {
	switch {
	case data == "-":
		return io.ReadAll(g.io.in)
	case strings.HasPrefix(data, "@"):
		return os.ReadFile(data[1:])
	}
	return []byte(data), nil
}
