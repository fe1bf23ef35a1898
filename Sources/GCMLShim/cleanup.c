// Files a run must not leave behind (temporaries, scratch files) and the
// SIGINT/SIGTERM/SIGHUP handler that removes them. The handler may only call
// async-signal-safe functions, so the registry is a fixed table of C strings
// kept here rather than Swift objects.
#include "gcml_shim.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define GCML_CLEANUP_SLOTS 256

static char *volatile cleanup_paths[GCML_CLEANUP_SLOTS];
static volatile sig_atomic_t handlers_installed = 0;

// Registry changes run with the handled signals blocked, so the handler never
// sees a slot half-written or freed under it.
static void block_signals(sigset_t *previous) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, previous);
}

static void restore_signals(const sigset_t *previous) { sigprocmask(SIG_SETMASK, previous, NULL); }

static void remove_registered(int signal_number) {
    for (int i = 0; i < GCML_CLEANUP_SLOTS; i++) {
        char *path = cleanup_paths[i];
        if (path) unlink(path);
    }
    _exit(128 + signal_number);
}

void gcml_install_cleanup_handlers(void) {
    if (handlers_installed) return;
    handlers_installed = 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = remove_registered;
    sigemptyset(&action.sa_mask);
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaddset(&action.sa_mask, SIGHUP);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
}

int gcml_cleanup_register(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    sigset_t previous;
    block_signals(&previous);
    int slot = -1;
    for (int i = 0; i < GCML_CLEANUP_SLOTS; i++) {
        if (!cleanup_paths[i]) { cleanup_paths[i] = copy; slot = i; break; }
    }
    restore_signals(&previous);
    if (slot < 0) free(copy);
    return slot;
}

void gcml_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= GCML_CLEANUP_SLOTS) return;
    sigset_t previous;
    block_signals(&previous);
    char *path = cleanup_paths[slot];
    cleanup_paths[slot] = NULL;
    restore_signals(&previous);
    free(path);
}

void gcml_defer_signals(int defer) {
    static sigset_t previous;
    static int depth = 0;
    if (defer) {
        if (depth++ == 0) block_signals(&previous);
    } else if (depth > 0 && --depth == 0) {
        restore_signals(&previous);
    }
}

int gcml_lock_exclusive(const char *path, int *found_errno) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { *found_errno = errno; return -1; }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *found_errno = errno;
        close(fd);
        return -2;
    }
    return fd;
}

int gcml_process_is_running(long pid) {
    if (pid <= 0) return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}
