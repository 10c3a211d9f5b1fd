package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// SlogLevel maps LOG_LEVEL (the seed's Python level names, any case) to a
// slog level.
func (c *Config) SlogLevel() (slog.Level, error) {
	switch strings.ToUpper(c.LogLevel) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARNING", "WARN":
		return slog.LevelWarn, nil
	case "ERROR", "CRITICAL":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("LOG_LEVEL: %q is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL", c.LogLevel)
}

// JSONLogs reports whether logs are JSON (for machines) rather than text
// (for people at a terminal).
func (c *Config) JSONLogs() bool {
	if c.LogFormat != "" {
		return c.LogFormat == "json"
	}
	return c.Environment != Development
}
