package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
)

// workerEnv marks a process started by supervise; its value is the worker
// number. The listening socket is inherited as file descriptor 3.
const workerEnv = "NEUTRINO_WORKER"

// workerListener returns the inherited socket of a worker, or nil.
func workerListener() (net.Listener, error) {
	if os.Getenv(workerEnv) == "" {
		return nil, nil
	}
	f := os.NewFile(3, "listener")
	if f == nil {
		return nil, fmt.Errorf("worker without inherited listener")
	}
	defer f.Close()
	return net.FileListener(f)
}

// prepareDB migrates the database when asked and checks that its schema
// is the one this binary needs.
func prepareDB(ctx context.Context, c *config.Config, log *slog.Logger, migrate bool) error {
	d, err := openDBWaiting(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.Close()
	if migrate {
		if _, err := d.Migrate(ctx, db.Schema()); err != nil {
			return err
		}
	}
	v, err := d.Version(ctx)
	if err != nil {
		return err
	}
	return app.SchemaError(v, d.Redacted)
}

// supervise is api_workers > 1: the parent migrates the database (when
// asked), opens the socket and runs n worker processes that accept on it
// (the kernel spreads connections), restarting any that dies; on SIGHUP it
// reloads its own log options and passes the signal on to every worker;
// on SIGTERM it stops them all, each draining its in-flight requests.
func supervise(ctx context.Context, c *config.Config, log *slog.Logger, n int, args []string, migrate bool, hup <-chan os.Signal, r *reloader) int {
	if err := prepareDB(ctx, c, log, migrate); err != nil {
		log.Error("start-up failed: " + err.Error())
		return 1
	}
	a := &app.App{Config: c}
	ln, err := a.Listen()
	if err != nil {
		log.Error("cannot listen", "error", err)
		return 1
	}
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		log.Error("cannot share the socket", "error", err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		log.Error("cannot find own executable", "error", err)
		return 1
	}
	log.Info("starting API workers", "workers", n, "address", ln.Addr().String())
	var mu sync.Mutex
	procs := map[int]*exec.Cmd{}
	stopping := false
	var wg sync.WaitGroup
	start := func(i int) error {
		cmd := exec.Command(exe, append([]string{"serve"}, args...)...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", workerEnv, i), "NOTIFY_SOCKET=")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.ExtraFiles = []*os.File{lf}
		// a worker outlives no parent, even one killed with SIGKILL
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			return err
		}
		mu.Lock()
		procs[i] = cmd
		mu.Unlock()
		return nil
	}
	for i := 1; i <= n; i++ {
		if err := start(i); err != nil {
			log.Error("cannot start worker", "worker", i, "error", err)
			return 1
		}
	}
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for {
				mu.Lock()
				cmd := procs[i]
				mu.Unlock()
				err := cmd.Wait()
				mu.Lock()
				s := stopping
				mu.Unlock()
				if s {
					return
				}
				log.Error("API worker exited; restarting", "worker", i, "error", err)
				time.Sleep(time.Second)
				if err := start(i); err != nil {
					log.Error("cannot restart worker", "worker", i, "error", err)
					return
				}
			}
		}(i)
	}
	go r.loop(ctx, hup, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, cmd := range procs {
			cmd.Process.Signal(syscall.SIGHUP)
		}
	})
	daemon.SdNotify(false, daemon.SdNotifyReady)
	<-ctx.Done()
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	mu.Lock()
	stopping = true
	for _, cmd := range procs {
		cmd.Process.Signal(syscall.SIGTERM)
	}
	mu.Unlock()
	ln.Close()
	wg.Wait()
	log.Info("all API workers stopped")
	return 0
}
