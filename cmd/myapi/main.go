// Command myapi is the myapi server and its administration commands.
//
//	myapi [serve]                 serve the API (the default)
//	myapi worker                  run the background job workers alone
//	myapi migrate up|down|status  manage the database schema
//	myapi createsuperuser         create a superuser (password from stdin or MYAPI_PASSWORD)
//	myapi backup [--out FILE]     back up the database while it serves
//	myapi restore FILE            replace the database with a backup
//	myapi healthcheck             exit 0 if the server on this host is ready
//	myapi version                 print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "myapi:", err)
		os.Exit(1)
	}
}

// version and commit are stamped at build time with
// -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

const usage = `usage: myapi [command]

commands:
  serve                   serve the API (default), with JOBS_WORKERS job workers
  worker                  run the background job workers only (no HTTP API)
  migrate up|down|status  apply, roll back one, or list database migrations
  createsuperuser         create a superuser: --email E --username U, password
                          from the MYAPI_PASSWORD variable or the first line of stdin
  backup [--out FILE]     back up the database, online (default: into BACKUP_DIR;
                          --keep N then keeps the newest N there); --list lists
                          the backups in BACKUP_DIR
  restore FILE            check FILE and replace the database with it (servers
                          and workers stopped first); the old one is kept aside;
                          --from-replica [URL]: from the Litestream replica
                          (default REPLICA_URL)
  healthcheck             exit 0 if the server on this host is ready (for containers)
  version                 print the version

Settings come from the environment and ./.env (see .env.example).`

// run is the whole program, callable from tests: it returns when ctx is
// cancelled (serve) or the command is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout, nil)
	case "worker":
		return worker(ctx, getenv, stdout)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "createsuperuser":
		return createSuperuser(ctx, args, getenv, stdin, stdout)
	case "backup":
		return backupCmd(ctx, args, getenv, stdout)
	case "restore":
		return restoreCmd(ctx, args, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
