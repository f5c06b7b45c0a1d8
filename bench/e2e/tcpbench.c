/* bench/e2e/tcpbench.c — the kernel-side client (and kernel reference server) of compare.sh.
 *
 *   tcpbench send HOST PORT BYTES            send BYTES (cubic) to a discard port, shut down, wait for
 *                                            the server's FIN (it comes after every byte was read);
 *                                            prints seconds
 *   tcpbench recv HOST PORT BYTES            read BYTES (cubic) from a chargen port, checking every
 *                                            byte against the RFC 864 pattern; prints seconds
 *   tcpbench crr HOST PORT SECS CONC MODE    connections for SECS seconds, CONC at a time (epoll):
 *                                            connect, a short exchange, close. MODE echo: 32 bytes
 *                                            out, the same 32 back, then the client closes first;
 *                                            MODE http: a GET with Connection: close, the reply read
 *                                            to the server's FIN (the server closes first), status
 *                                            checked. Prints "CONN_PER_S DONE ERRORS CPU": CPU
 *                                            is this process's user + system time over the wall
 *                                            time in percent (near 100: the client is the bound)
 *   tcpbench rr HOST PORT COUNT SIZE         COUNT request/responses of SIZE bytes over one
 *                                            connection (TCP_NODELAY) to an echo port; prints
 *                                            "P50_US P99_US" of the round trips
 *   tcpbench serve ADDR                      kernel reference servers on ADDR: echo:7 and http:80
 *                                            (the same fixed reply as lwip_peer's), one thread, epoll;
 *                                            until SIGTERM
 *
 * Exit 0 on success, 1 with "FAIL ..." on stdout when a check or a socket call fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fail(const char* what) {
    printf("FAIL %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct sockaddr_in addr_of(const char* host, const char* port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        printf("FAIL bad address %s\n", host);
        exit(1);
    }
    return a;
}

static int connect_to(const struct sockaddr_in* a, int cubic, int nodelay) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    /* NOTES.md: a new namespace inherits bbr; the benchmarks set cubic per socket */
    if (cubic && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5) < 0)
        fail("TCP_CONGESTION cubic");
    int one = 1;
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr*)a, sizeof *a) < 0) fail("connect");
    return fd;
}

/* ---- send / recv ---- */

static int do_send(const struct sockaddr_in* a, long long bytes) {
    static char buf[CHUNK];
    int fd = connect_to(a, 1, 0);
    double t0 = now_s();
    long long left = bytes;
    while (left > 0) {
        ssize_t n = send(fd, buf, left < CHUNK ? (size_t)left : CHUNK, 0);
        if (n < 0) fail("send");
        left -= n;
    }
    shutdown(fd, SHUT_WR);
    for (;;) { /* the discard server closes after reading everything: EOF means all consumed */
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) fail("recv (waiting for the server's FIN)");
        if (n == 0) break;
    }
    double dt = now_s() - t0;
    close(fd);
    printf("%.6f\n", dt);
    return 0;
}

#define LINE 74
#define CYCLE 95
#define PATTERN (LINE * CYCLE)

static int do_recv(const struct sockaddr_in* a, long long bytes) {
    static unsigned char buf[CHUNK];
    static unsigned char pattern[PATTERN + CHUNK];
    for (size_t line = 0; line < CYCLE; ++line) {
        for (size_t i = 0; i < 72; ++i)
            pattern[line * LINE + i] = (unsigned char)(' ' + (line + i) % CYCLE);
        pattern[line * LINE + 72] = '\r';
        pattern[line * LINE + 73] = '\n';
    }
    for (size_t i = PATTERN; i < sizeof pattern; ++i) pattern[i] = pattern[i - PATTERN];
    int fd = connect_to(a, 1, 0);
    double t0 = now_s();
    long long got = 0;
    while (got < bytes) {
        long long want = bytes - got < CHUNK ? bytes - got : CHUNK;
        ssize_t n = recv(fd, buf, (size_t)want, 0);
        if (n < 0) fail("recv");
        if (n == 0) {
            printf("FAIL EOF after %lld of %lld bytes\n", got, bytes);
            return 1;
        }
        if (memcmp(buf, pattern + got % PATTERN, (size_t)n) != 0) {
            printf("FAIL byte %lld..%lld is not the RFC 864 pattern\n", got, got + n);
            return 1;
        }
        got += n;
    }
    double dt = now_s() - t0;
    close(fd);
    printf("%.6f\n", dt);
    return 0;
}

/* ---- crr: connections per second ---- */

enum { ST_IDLE, ST_CONNECTING, ST_READING };
struct slot {
    int fd, state, got;
    char buf[512];
};

static const char echo_req[32] = "0123456789abcdef0123456789abcde";
static const char http_req[] = "GET /r HTTP/1.1\r\nHost: 198.18.0.2\r\nConnection: close\r\n\r\n";

static int do_crr(const struct sockaddr_in* a, double secs, int conc, int http) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct slot* slots = calloc((size_t)conc, sizeof *slots);
    long long done = 0, errors = 0;
    double t0 = now_s(), end = t0 + secs, cpu0 = cpu_s();
    int open_slots = 0;
    for (int i = 0; i < conc; ++i) slots[i].state = ST_IDLE;
    for (;;) {
        double t = now_s();
        for (int i = 0; i < conc && t < end; ++i) { /* start a connection in every idle slot */
            struct slot* s = &slots[i];
            if (s->state != ST_IDLE) continue;
            s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (s->fd < 0) fail("socket");
            int one = 1;
            setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            s->got = 0;
            if (connect(s->fd, (const struct sockaddr*)a, sizeof *a) < 0 && errno != EINPROGRESS)
                fail("connect");
            s->state = ST_CONNECTING;
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
            ++open_slots;
        }
        if (open_slots == 0) break;
        if (t > end + 10) {
            printf("FAIL %d connections still open 10 s after the end\n", open_slots);
            return 1;
        }
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int k = 0; k < n; ++k) {
            struct slot* s = &slots[evs[k].data.u32];
            int ok = 1, finished = 0;
            if (s->state == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                const char* req = http ? http_req : echo_req;
                size_t rlen = http ? sizeof http_req - 1 : sizeof echo_req;
                if (err != 0 || send(s->fd, req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen) {
                    ok = 0;
                } else {
                    s->state = ST_READING;
                    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[k].data.u32};
                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                }
            } else {
                for (;;) {
                    ssize_t r = recv(s->fd, s->buf + (s->got < 256 ? s->got : 256), 256, 0);
                    if (r < 0) {
                        if (errno != EAGAIN) ok = 0;
                        break;
                    }
                    if (r == 0) { /* the server's FIN: the end of an http reply */
                        if (!http || s->got < 12 || memcmp(s->buf, "HTTP/1.1 200", 12) != 0) ok = 0;
                        finished = 1;
                        break;
                    }
                    s->got += (int)r;
                    if (!http && s->got >= (int)sizeof echo_req) {
                        if (s->got != (int)sizeof echo_req ||
                            memcmp(s->buf, echo_req, sizeof echo_req) != 0)
                            ok = 0;
                        finished = 1; /* the client closes first */
                        break;
                    }
                }
            }
            if (!ok || finished) {
                close(s->fd); /* also removes it from the epoll set */
                s->state = ST_IDLE;
                --open_slots;
                if (ok)
                    ++done;
                else
                    ++errors;
            }
        }
    }
    double dt = now_s() - t0;
    printf("%.0f %lld %lld %.0f\n", (double)done / dt, done, errors, (cpu_s() - cpu0) / dt * 100);
    return errors > done / 100 ? 1 : 0; /* more than 1% failed: not a measurement */
}

/* ---- rr: request/response latency over one connection ---- */

static int cmp_double(const void* x, const void* y) {
    double a = *(const double*)x, b = *(const double*)y;
    return a < b ? -1 : a > b;
}

static int do_rr(const struct sockaddr_in* a, int count, int size) {
    char out[4096], in[4096];
    if (size < 1 || size > (int)sizeof out) size = 64;
    for (int i = 0; i < size; ++i) out[i] = (char)('a' + i % 26);
    double* rtt = calloc((size_t)count, sizeof *rtt);
    int fd = connect_to(a, 1, 1);
    for (int i = 0; i < count; ++i) {
        double t0 = now_s();
        if (send(fd, out, (size_t)size, 0) != size) fail("send");
        int got = 0;
        while (got < size) {
            ssize_t r = recv(fd, in + got, (size_t)(size - got), 0);
            if (r <= 0) fail("recv (echo)");
            got += (int)r;
        }
        rtt[i] = (now_s() - t0) * 1e6;
        if (memcmp(in, out, (size_t)size) != 0) {
            printf("FAIL echo differs\n");
            return 1;
        }
    }
    close(fd);
    qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
    printf("%.1f %.1f\n", rtt[count / 2], rtt[(int)((count - 1) * 0.99)]);
    return 0;
}

/* ---- serve: kernel reference servers ---- */

static const char http_reply[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: close\r\n\r\n"
    "0123456789abcde\n";
static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static int listen_on(const char* host, const char* port) {
    struct sockaddr_in a = addr_of(host, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr*)&a, sizeof a) < 0) fail("bind");
    if (listen(fd, 4096) < 0) fail("listen");
    return fd;
}

/* epoll data: fd << 2 | kind (0 echo listener, 1 http listener, 2 echo conn, 3 http conn) */
static int do_serve(const char* host) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int le = listen_on(host, "7"), lh = listen_on(host, "80");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)le << 2};
    epoll_ctl(ep, EPOLL_CTL_ADD, le, &ev);
    ev.data.u64 = (uint64_t)lh << 2 | 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, lh, &ev);
    printf("ready\n");
    fflush(stdout);
    char buf[65536];
    while (!stop) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 200);
        for (int k = 0; k < n; ++k) {
            int fd = (int)(evs[k].data.u64 >> 2), kind = (int)(evs[k].data.u64 & 3);
            if (kind < 2) {
                for (;;) {
                    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = {.events = EPOLLIN,
                                              .data.u64 = (uint64_t)c << 2 | (uint64_t)(kind + 2)};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r < 0 && errno == EAGAIN) continue;
            if (r <= 0) {
                close(fd);
                continue;
            }
            if (kind == 2) {
                if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r) close(fd); /* short echoes only */
            } else if (memmem(buf, (size_t)r, "\r\n\r\n", 4) !=
                       NULL) { /* requests fit in one read */
                send(fd, http_reply, sizeof http_reply - 1, MSG_NOSIGNAL);
                close(fd); /* the server closes first */
            }
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[1], "serve") == 0) return do_serve(argv[2]);
    if (argc < 5) {
        fprintf(stderr,
                "usage: tcpbench send|recv HOST PORT BYTES | crr HOST PORT SECS CONC echo|http |"
                " rr HOST PORT COUNT SIZE | serve ADDR\n");
        return 2;
    }
    struct sockaddr_in a = addr_of(argv[2], argv[3]);
    if (strcmp(argv[1], "send") == 0) return do_send(&a, atoll(argv[4]));
    if (strcmp(argv[1], "recv") == 0) return do_recv(&a, atoll(argv[4]));
    if (strcmp(argv[1], "crr") == 0 && argc >= 7)
        return do_crr(&a, atof(argv[4]), atoi(argv[5]), strcmp(argv[6], "http") == 0);
    if (strcmp(argv[1], "rr") == 0 && argc >= 6) return do_rr(&a, atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "tcpbench: unknown mode %s\n", argv[1]);
    return 2;
}
