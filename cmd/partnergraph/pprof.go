package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveSide serves, on a listener of its own at addr so that they are
// never reachable through the API's address, the metrics if not nil at
// /metrics and, with pprof, Go's profiles (net/http/pprof), until ctx
// ends or stop is called. setting names addr in errors.
func serveSide(ctx context.Context, addr, setting string, metrics http.Handler, withPprof bool, logger *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed at stop
	if metrics != nil {
		logger.Info("serving metrics", "addr", ln.Addr().String(), "path", "/metrics", "pprof", withPprof)
	} else {
		logger.Info("serving profiles", "addr", ln.Addr().String(), "path", "/debug/pprof/")
	}
	return func() { srv.Close() }, nil
}
