// Command zumo is a terminal client for Azure Mobile Apps backends and a
// local emulator of one.
//
//	zumo serve                      run the emulator (zumotest) on 127.0.0.1:3000
//	zumo login --custom             log in with a username and password
//	zumo whoami                     who is logged in, until when
//	zumo table list todoitem        list a table (a table on a terminal, JSON lines when piped)
//	zumo api hello --param name=x   call a custom API
//
// The service is chosen with --app URL or ZUMO_APP_URL. Exit codes: 0
// success, 1 failure, 2 usage error. See docs/cli.md in the repository.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
