package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/postgres"
	"myapi/internal/storage"
)

// toolAppName marks the connections of backup and restore themselves.
const toolAppName = "myapi-backup"

// pgEngine backs up the schema myapi works in (public, or DATABASE_URL's
// search_path) with pg_dump's custom format, and restores it with
// pg_restore and psql in one transaction.
type pgEngine struct {
	url     string // as configured (pgx understands it)
	libpq   string // for pg_dump, pg_restore and psql: no password, no pgx-only parameters
	pass    string // given to the tools in PGPASSWORD, never on a command line
	appName string
	now     func() time.Time
}

// libpqParams are the URL parameters libpq knows; others (pgx's pool
// settings, search_path) are for the server itself or for pgx.
var libpqParams = map[string]bool{
	"sslmode": true, "sslcert": true, "sslkey": true, "sslrootcert": true, "sslcrl": true, "sslpassword": true,
	"sslnegotiation": true, "sslcompression": true, "connect_timeout": true, "options": true, "host": true,
	"hostaddr": true, "port": true, "dbname": true, "user": true, "target_session_attrs": true,
	"keepalives": true, "keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "gssencmode": true, "krbsrvname": true, "channel_binding": true,
	"require_auth": true, "service": true, "passfile": true,
}

// NewPostgres returns the engine of the PostgreSQL database rawURL names.
func NewPostgres(rawURL string) (Engine, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	u.Scheme, _, _ = strings.Cut(u.Scheme, "+") // the seed's postgresql+asyncpg
	pgxURL := *u
	e := &pgEngine{url: pgxURL.String(), appName: postgres.AppName, now: time.Now}
	q := u.Query()
	if name := q.Get("application_name"); name != "" {
		e.appName = name
	}
	if u.User != nil {
		e.pass, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	q.Set("application_name", toolAppName)
	u.RawQuery = q.Encode()
	e.libpq = u.String()
	return e, nil
}

func (e *pgEngine) Name() string { return "postgres" }

func (e *pgEngine) Ext() string { return ".dump" }

// DefaultDir is backups/ in the working directory.
func (e *pgEngine) DefaultDir() string { return "backups" }

// Serving needs nothing on PostgreSQL: the server's connections carry its
// application_name, which Restore looks for.
func (e *pgEngine) Serving(context.Context) (func(), error) { return func() {}, nil }

// connect opens one connection of the tool itself (not counted as a server).
func (e *pgEngine) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = toolAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return conn, nil
}

// schema is the schema myapi works in: current_schema() of its connections.
func (e *pgEngine) schema(ctx context.Context) (string, error) {
	conn, err := e.connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("current schema: %w", err)
	}
	if schema == nil {
		return "", errors.New("DATABASE_URL's search_path names no existing schema")
	}
	return *schema, nil
}

// tool returns a command running the PostgreSQL client program name.
func (e *pgEngine) tool(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%s is not on PATH: install the PostgreSQL client programs (Debian: apt-get install postgresql-client), of a major version at least the server's", name)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+e.pass, "PGCONNECT_TIMEOUT=10")
	return cmd, nil
}

// run runs a PostgreSQL client program and returns its standard output,
// or an error with what it said on standard error.
func (e *pgEngine) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd, err := e.tool(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	defer holdThread()()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (e *pgEngine) Snapshot(ctx context.Context, path string) error {
	schema, err := e.schema(ctx)
	if err != nil {
		return err
	}
	// pg_dump reads in one repeatable-read transaction: a consistent
	// snapshot that does not block writers.
	_, err = e.run(ctx, "pg_dump", "--format=custom", "--no-password", "--schema="+quoteIdent(schema),
		"--file="+path, "--dbname="+e.libpq)
	return err
}

// tocEntry matches a line of pg_restore --list: "id; oid oid TYPE schema name owner".
var tocEntry = regexp.MustCompile(`^\d+; \d+ \d+ ([A-Z][A-Z ]*?) (\S+) (\S+) `)

// archive is what Inspect learns from an archive's table of contents.
type archive struct {
	schema       string // the schema the tables are in
	createSchema bool   // whether the archive creates that schema
}

// toc reads the archive's table of contents and finds myapi's tables in it.
func (e *pgEngine) toc(ctx context.Context, path string) (archive, error) {
	out, err := e.run(ctx, "pg_restore", "--list", path)
	if err != nil {
		return archive{}, refuse("%s is truncated, corrupt or not a pg_dump archive: %v", path, err)
	}
	tables := map[string]map[string]bool{}
	schemas := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		m := tocEntry.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[1] {
		case "TABLE":
			if tables[m[2]] == nil {
				tables[m[2]] = map[string]bool{}
			}
			tables[m[2]][m[3]] = true
		case "SCHEMA":
			schemas[m[3]] = true
		}
	}
	for schema, names := range tables {
		if names["goose_db_version"] && names["users"] && names["items"] {
			return archive{schema: schema, createSchema: schemas[schema]}, nil
		}
	}
	return archive{}, refuse("%s holds no schema with the goose_db_version, users and items tables: not a myapi backup, or a corrupt one", path)
}

// Inspect reads the archive's table of contents, then the whole archive
// (pg_restore to nowhere: a truncated or damaged data block fails), and
// returns the schema version in its goose_db_version table.
func (e *pgEngine) Inspect(ctx context.Context, path string) (int64, error) {
	a, err := e.toc(ctx, path)
	if err != nil {
		return 0, err
	}
	if _, err := e.run(ctx, "pg_restore", "--file=/dev/null", path); err != nil {
		return 0, refuse("%s is truncated or corrupt: %v", path, err)
	}
	out, err := e.run(ctx, "pg_restore", "--data-only", "--schema="+a.schema, "--table=goose_db_version", "--file=-", path)
	if err != nil {
		return 0, refuse("%s: read schema version: %v", path, err)
	}
	rows, err := parseGooseCopy(out)
	if err != nil {
		return 0, refuse("%s: read schema version: %v", path, err)
	}
	return schemaVersion(rows), nil
}

// parseGooseCopy reads goose_db_version's rows from pg_restore's COPY
// output.
func parseGooseCopy(script []byte) ([]gooseRow, error) {
	var rows []gooseRow
	var cols []string
	sc := bufio.NewScanner(bytes.NewReader(script))
	for sc.Scan() {
		line := sc.Text()
		if cols == nil {
			if head, ok := strings.CutPrefix(line, "COPY "); ok {
				open, close := strings.Index(head, "("), strings.Index(head, ")")
				if open < 0 || close < open {
					return nil, fmt.Errorf("unexpected COPY line %q", line)
				}
				for _, c := range strings.Split(head[open+1:close], ",") {
					cols = append(cols, strings.Trim(strings.TrimSpace(c), `"`))
				}
			}
			continue
		}
		if line == `\.` {
			return rows, nil
		}
		fields := strings.Split(line, "\t")
		if len(fields) != len(cols) {
			return nil, fmt.Errorf("unexpected row %q", line)
		}
		var r gooseRow
		for i, c := range cols {
			var err error
			switch c {
			case "id":
				r.id, err = strconv.ParseInt(fields[i], 10, 64)
			case "version_id":
				r.version, err = strconv.ParseInt(fields[i], 10, 64)
			case "is_applied":
				r.isApplied = fields[i] == "t"
			}
			if err != nil {
				return nil, fmt.Errorf("unexpected row %q: %w", line, err)
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cols == nil {
		return nil, errors.New("no goose_db_version data")
	}
	return nil, errors.New("goose_db_version data does not end")
}

// inUse returns ErrInUse, naming them, while connections other than the
// tool's own carry the server's application_name in this database.
func (e *pgEngine) inUse(ctx context.Context, conn *pgx.Conn) error {
	var n int
	var from string
	err := conn.QueryRow(ctx, `
		SELECT count(*), coalesce(string_agg(DISTINCT coalesce(host(client_addr), 'local socket'), ', '), '')
		FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
		e.appName).Scan(&n, &from)
	if err != nil {
		return fmt.Errorf("look for servers in pg_stat_activity: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w: %d connection(s) with application_name %q (from %s) are open to this database (pg_stat_activity): stop every myapi server and worker first",
			ErrInUse, n, e.appName, from)
	}
	return nil
}

// Restore restores the archive into a new schema in one transaction, with
// the current schema untouched, migrates the new schema forward, then swaps
// the two in a second transaction (two renames): the current schema is
// kept aside under a new name.
func (e *pgEngine) Restore(ctx context.Context, path string) (string, error) {
	a, err := e.toc(ctx, path)
	if err != nil {
		return "", err
	}
	conn, err := e.connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := e.inUse(ctx, conn); err != nil {
		return "", err
	}
	var target *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&target); err != nil {
		return "", fmt.Errorf("current schema: %w", err)
	}
	if target == nil {
		return "", errors.New("DATABASE_URL's search_path names no existing schema: create it first")
	}
	stamp := strings.ToLower(asideStamp(e.now()))
	staged := clipIdent(*target + "_restoring_" + stamp)
	aside := clipIdent(*target + "_before_restore_" + stamp)

	if err := e.restoreInto(ctx, conn, path, a, staged); err != nil {
		return "", err
	}
	dropStaged := func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+quoteIdent(staged)+" CASCADE")
	}
	if err := e.migrateSchema(ctx, staged); err != nil {
		dropStaged()
		return "", err
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		dropStaged()
		return "", fmt.Errorf("swap schemas: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Again, now that the swap is near: a server may have started since.
	if err := e.inUse(ctx, conn); err != nil {
		_ = tx.Rollback(ctx)
		dropStaged()
		return "", err
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", *target).Scan(&exists); err != nil {
		return "", fmt.Errorf("swap schemas: %w", err)
	}
	if !exists {
		aside = ""
	} else {
		// Ids handed out after the backup (to rows the restore removes)
		// are not handed out again: a token names its user by id.
		if _, err := tx.Exec(ctx, `
			SELECT setval(format('%I.%I', r.schemaname, r.sequencename)::regclass, c.last_value)
			FROM pg_sequences r JOIN pg_sequences c USING (sequencename)
			WHERE r.schemaname = $1 AND c.schemaname = $2 AND c.last_value > coalesce(r.last_value, 0)`,
			staged, *target); err != nil {
			return "", fmt.Errorf("carry id sequences over: %w", err)
		}
		if _, err := tx.Exec(ctx, "ALTER SCHEMA "+quoteIdent(*target)+" RENAME TO "+quoteIdent(aside)); err != nil {
			return "", fmt.Errorf("swap schemas: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "ALTER SCHEMA "+quoteIdent(staged)+" RENAME TO "+quoteIdent(*target)); err != nil {
		return "", fmt.Errorf("swap schemas: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		dropStaged()
		return "", fmt.Errorf("swap schemas: %w", err)
	}
	if aside != "" {
		aside = "schema " + aside
	}
	return aside, nil
}

// restoreInto restores the archive as the schema staged, in one psql
// transaction that commits only if pg_restore read the whole archive and
// every statement succeeded. The archive creates its own schema (a.schema,
// usually the same as the target's), so one of that name is renamed away
// for the transaction and back at its end: other sessions never see a
// change but the new schema staged.
func (e *pgEngine) restoreInto(ctx context.Context, conn *pgx.Conn, path string, a archive, staged string) error {
	var clash bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", a.schema).Scan(&clash); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	held := clipIdent(a.schema + "_held_" + strings.ToLower(asideStamp(e.now())))
	var pre, post strings.Builder
	pre.WriteString("\\set ON_ERROR_STOP 1\nBEGIN;\n")
	if clash {
		fmt.Fprintf(&pre, "ALTER SCHEMA %s RENAME TO %s;\n", quoteIdent(a.schema), quoteIdent(held))
	}
	if !a.createSchema {
		fmt.Fprintf(&pre, "CREATE SCHEMA %s;\n", quoteIdent(a.schema))
	}
	fmt.Fprintf(&post, "\nALTER SCHEMA %s RENAME TO %s;\n", quoteIdent(a.schema), quoteIdent(staged))
	if clash {
		fmt.Fprintf(&post, "ALTER SCHEMA %s RENAME TO %s;\n", quoteIdent(held), quoteIdent(a.schema))
	}
	post.WriteString("COMMIT;\n")

	dump, err := e.tool(ctx, "pg_restore", "--no-owner", "--no-privileges", "--file=-", path)
	if err != nil {
		return err
	}
	psql, err := e.tool(ctx, "psql", "--no-psqlrc", "--quiet", "--no-password", "--dbname="+e.libpq, "--file=-")
	if err != nil {
		return err
	}
	var dumpErr, psqlErr bytes.Buffer
	dump.Stderr, psql.Stderr = &dumpErr, &psqlErr
	defer holdThread()()
	psql.Stdout = io.Discard
	script, err := dump.StdoutPipe()
	if err != nil {
		return err
	}
	in, err := psql.StdinPipe()
	if err != nil {
		return err
	}
	if err := psql.Start(); err != nil {
		return fmt.Errorf("psql: %w", err)
	}
	if err := dump.Start(); err != nil {
		_ = in.Close()
		_ = psql.Wait()
		return fmt.Errorf("pg_restore: %w", err)
	}
	_, werr := io.WriteString(in, pre.String())
	if werr == nil {
		_, werr = io.Copy(in, script)
	}
	dumpRunErr := dump.Wait()
	if werr == nil && dumpRunErr == nil {
		// COMMIT only after pg_restore read the whole archive: a
		// truncated one ends the script early, and psql, reaching the end
		// of its input inside the transaction, disconnects: rolled back.
		_, werr = io.WriteString(in, post.String())
	}
	_ = in.Close()
	psqlRunErr := psql.Wait()
	switch {
	case dumpRunErr != nil:
		return refuse("pg_restore could not read %s: %v: %s", path, dumpRunErr, strings.TrimSpace(dumpErr.String()))
	case psqlRunErr != nil:
		return fmt.Errorf("psql: %w: %s", psqlRunErr, strings.TrimSpace(psqlErr.String()))
	case werr != nil:
		return fmt.Errorf("psql: %w: %s", werr, strings.TrimSpace(psqlErr.String()))
	}
	var done bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", staged).Scan(&done); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !done {
		return fmt.Errorf("restore: psql did not commit: %s", strings.TrimSpace(psqlErr.String()))
	}
	return nil
}

// migrateSchema applies this binary's migrations to schema.
func (e *pgEngine) migrateSchema(ctx context.Context, schema string) error {
	u, err := url.Parse(e.url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", toolAppName)
	u.RawQuery = q.Encode()
	db, err := storage.Open(ctx, u.String(), storage.Options{PoolSize: 1, MaxOverflow: 1})
	if err != nil {
		return fmt.Errorf("migrate the restored schema: %w", err)
	}
	defer db.Close()
	if _, err := storage.MigrateUp(ctx, db); err != nil {
		return fmt.Errorf("migrate the restored schema: %w", err)
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// clipIdent keeps an identifier within PostgreSQL's 63 bytes, keeping its
// end (the time stamp that makes it unique).
func clipIdent(s string) string {
	if len(s) <= 63 {
		return s
	}
	return s[len(s)-63:]
}
