package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"myapi/internal/config"
	"myapi/internal/users"
	"myapi/migrations"
)

// migrate runs "myapi migrate up|down|status".
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: myapi migrate up|down|status")
	}
	cfg, log, err := loadConfig(getenv, io.Discard)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, log, nil) // no tracing for admin commands
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.Migrations()
	if err != nil {
		return err
	}
	if err := migrations.Run(ctx, p, args[0], stdout); err != nil {
		return err
	}
	// The job queue's own schema (River's, versioned by River) follows the
	// application's up; down and status concern the application's only.
	if args[0] == "up" {
		applied, err := db.MigrateRiver(ctx)
		for _, name := range applied {
			fmt.Fprintf(stdout, "applied %s\n", name)
		}
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "job queue (River) schema up to date")
		}
	}
	return nil
}

// createSuperuser runs "myapi createsuperuser --email E --username U". The
// password is never a flag (it would show in ps and shell history): it comes
// from MYAPI_PASSWORD or the first line of stdin.
func createSuperuser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "email address")
	username := fs.String("username", "", "username (3-50 characters)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *username == "" || fs.NArg() > 0 {
		return errors.New("usage: myapi createsuperuser --email E --username U (password from MYAPI_PASSWORD or stdin)")
	}
	if err := config.CheckEmail(*email); err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	if err := config.CheckUsername(*username); err != nil {
		return fmt.Errorf("--username: %w", err)
	}
	password := getenv("MYAPI_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if err := config.CheckPassword(password); err != nil {
		return fmt.Errorf("password (MYAPI_PASSWORD or the first line of stdin): %w", err)
	}

	cfg, log, err := loadConfig(getenv, io.Discard)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, log, nil) // no tracing for admin commands
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrateUp(ctx, db, log); err != nil {
		return err
	}
	svc, err := newAuthService(cfg, db)
	if err != nil {
		return err
	}
	u, err := svc.CreateSuperuser(ctx, *email, *username, password)
	switch {
	case errors.Is(err, users.ErrEmailTaken):
		return fmt.Errorf("a user with email %q already exists: nothing created", *email)
	case errors.Is(err, users.ErrUsernameTaken):
		return fmt.Errorf("a user named %q already exists: nothing created", *username)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "created superuser %s (id %d)\n", u.Username, u.ID)
	return nil
}
