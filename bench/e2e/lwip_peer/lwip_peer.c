/* bench/e2e/lwip_peer/lwip_peer.c — the lwIP reference peer of bench/e2e/compare.sh (our own code).
 *
 * Runs lwIP 2.1.3 as Debian ships it (liblwip-dev / liblwip0, linked as-is: `pkg-config lwip`) on a
 * TUN device, single-threaded, on lwIP's raw/callback TCP API:
 *
 *   lwip_peer TUN ADDR [--max-time-wait N]   creates TUN (IFF_TUN|IFF_NO_PI, gone when it exits);
 *                                              the caller gives the kernel side its address and
 *                                              brings it up; ADDR is lwIP's own (a /24)
 *
 *   discard:9   read and drop; close (FIN) on the peer's FIN; logs "discard: N bytes" per connection
 *   chargen:19  the RFC 864 pattern (the same 74-byte lines as tunstackd's chargen) as fast as the
 *               window allows; the peer's FIN or RST ends it
 *   echo:7      echoes what it reads (Nagle off); close on the peer's FIN (client closes first)
 *   http:80     reads a request head up to CR LF CR LF, answers one fixed "200 OK" with
 *               "Connection: close" and a 16-byte body, then closes (server closes first)
 *
 * Debian's library is built for the sockets API (NO_SYS 0, LWIP_TCPIP_CORE_LOCKING, lwipopts.h in
 * /usr/include/lwip). We never start its tcpip thread: lwip_init() and our own poll loop run on
 * one thread, the loop feeds every packet read from the TUN to ip_input() and drives the timers
 * with sys_check_timeouts(); with no tcpip thread marked, the core-locking check is a no-op. What
 * that library fixes at compile time and we cannot tune: TCP_WND 0xFFFF with window scale 1 (a
 * 64 KiB receive window), TCP_SND_BUF 64 KiB, TCP_MSS 1460, TCP_SND_QUEUELEN from those, no SACK
 * (LWIP_TCP_SACK_OUT 0), software checksums both ways, LWIP_NETIF_TX_SINGLE_PBUF (tcp_write always
 * copies), MEM_LIBC_MALLOC + MEMP_MEM_MALLOC (every pbuf, segment and pcb is a malloc, no pool
 * limits), SYS_LIGHTWEIGHT_PROT (a pthread mutex per allocation). Because the pools never run out,
 * lwIP's own "kill the oldest TIME-WAIT pcb when the pool is empty" never happens and TIME-WAIT
 * pcbs would pile up for 2 MSL (lwIP searches that list on every SYN): --max-time-wait N (default
 * 1000, as a pool would bound it) aborts the oldest beyond N at each accept (so about N remain).
 * And lwIP cannot reopen a connection from TIME-WAIT by a new SYN, as the kernel can: we do it
 * for it (reopen_time_wait), else connections per second hang once the client's ports wrap.
 *
 * Exit: 0 on SIGTERM/SIGINT (after a "lwip_peer: done, ..." line: packets, bytes, TIME-WAIT pcbs),
 * 1 on an error, 2 on a bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define MAX_PKT 2048
#define READ_BATCH 64

static int tun_fd = -1;
static volatile sig_atomic_t stop;
static unsigned long long bytes_in, bytes_out, pkts_in, pkts_out, write_errors;
static unsigned max_time_wait = 1000;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* ---- the netif: TUN in, TUN out ---- */

static err_t tun_output(struct netif* nif, struct pbuf* p, const ip4_addr_t* dst) {
    static unsigned char flat[65535];
    (void)nif;
    (void)dst;
    const void* data = p->payload;
    size_t len = p->len;
    if (p->next != NULL) { /* rare with LWIP_NETIF_TX_SINGLE_PBUF */
        len = pbuf_copy_partial(p, flat, sizeof flat, 0);
        data = flat;
    }
    ssize_t n = write(tun_fd, data, len);
    if (n != (ssize_t)len) {
        ++write_errors;
        return ERR_IF;
    }
    ++pkts_out;
    return ERR_OK;
}

static err_t tun_netif_init(struct netif* nif) {
    nif->name[0] = 't';
    nif->name[1] = 'n';
    nif->mtu = 1500;
    nif->output = tun_output;
    nif->flags = NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

/* ---- TIME-WAIT bound (see the header) ---- */

static void bound_time_wait(void) {
    unsigned count = 0;
    struct tcp_pcb *last = NULL, *pcb;
    for (pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
        ++count;
        last = pcb; /* new pcbs are pushed at the head: the tail is the oldest */
    }
    if (count > max_time_wait && last != NULL) tcp_abort(last);
}

/* A SYN for the 4-tuple of a TIME-WAIT pcb, above what that connection received: end that pcb
 * before lwIP sees the SYN, so the listener takes it (RFC 1122 §4.2.2.13 reuse, which the kernel
 * does). lwIP itself answers such a SYN with an ACK and ignores the RST the client then sends
 * (RFC 1337), so once the client's port numbers wrap the connection would hang until the
 * TIME-WAIT pcb times out or is evicted. */
static unsigned long long tw_reopened;
static void reopen_time_wait(const unsigned char* pkt, size_t n) {
    if (n < 20 || (pkt[0] >> 4) != 4 || pkt[9] != 6) return;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    if (n < ihl + 20) return;
    const unsigned char* t = pkt + ihl;
    if ((t[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) return;
    u32_t src;
    memcpy(&src, pkt + 12, 4); /* network order, as ip4_addr_t holds it */
    u16_t sport = (u16_t)(t[0] << 8 | t[1]), dport = (u16_t)(t[2] << 8 | t[3]);
    u32_t seq = (u32_t)t[4] << 24 | (u32_t)t[5] << 16 | (u32_t)t[6] << 8 | t[7];
    for (struct tcp_pcb* pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->remote_port == sport && pcb->local_port == dport &&
            ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) == src) {
            if (TCP_SEQ_GT(seq, pcb->rcv_nxt)) {
                tcp_abort(pcb); /* a TIME-WAIT pcb is freed without a RST */
                ++tw_reopened;
            }
            return;
        }
    }
}

/* ---- discard:9 ---- */

struct conn {
    unsigned long long bytes;
    unsigned head_match; /* http: how much of "\r\n\r\n" the input ends with */
    int closing;         /* close wanted, tcp_close said ERR_MEM: retry from poll/sent */
    size_t offset;       /* chargen: position in the pattern */
};

static struct conn* conn_new(void) {
    struct conn* c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "lwip_peer: out of memory\n");
        exit(1);
    }
    return c;
}

static void conn_close(struct tcp_pcb* pcb, struct conn* c) {
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    if (tcp_close(pcb) == ERR_OK) {
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_poll(pcb, NULL, 0);
        free(c);
    } else {
        c->closing = 1; /* retried by poll_close */
    }
}

static err_t poll_close(void* arg, struct tcp_pcb* pcb) {
    struct conn* c = arg;
    if (c != NULL && c->closing) conn_close(pcb, c);
    return ERR_OK;
}

static void on_err(void* arg, err_t err) {
    (void)err;
    free(arg); /* the pcb is already gone */
}

static err_t discard_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
    struct conn* c = arg;
    (void)err;
    if (p == NULL) {
        fprintf(stderr, "discard: %llu bytes\n", c->bytes);
        conn_close(pcb, c);
        return ERR_OK;
    }
    c->bytes += p->tot_len;
    bytes_in += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

/* ---- chargen:19 ---- */

#define LINE 74
#define CYCLE 95
#define PATTERN (LINE * CYCLE)
static unsigned char pattern[2 * PATTERN];

static void chargen_fill(struct tcp_pcb* pcb, struct conn* c) {
    for (;;) {
        u16_t room = tcp_sndbuf(pcb);
        if (room < TCP_MSS && room < PATTERN) break;
        if (tcp_sndqueuelen(pcb) + 2 >= TCP_SND_QUEUELEN) break;
        u16_t n = room > PATTERN ? PATTERN : room;
        if (tcp_write(pcb, pattern + c->offset, n, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) !=
            ERR_OK)
            break;
        c->offset = (c->offset + n) % PATTERN;
        bytes_out += n;
    }
    tcp_output(pcb);
}

static err_t chargen_sent(void* arg, struct tcp_pcb* pcb, u16_t len) {
    (void)len;
    chargen_fill(pcb, arg);
    return ERR_OK;
}

static err_t chargen_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
    (void)err;
    if (p == NULL) {
        conn_close(pcb, arg);
        return ERR_OK;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

/* ---- echo:7 ---- */

static err_t echo_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
    struct conn* c = arg;
    (void)err;
    if (p == NULL) {
        conn_close(pcb, c);
        return ERR_OK;
    }
    /* No room for all of it: refuse it; lwIP keeps it and offers it again (echo_sent). */
    if (tcp_sndbuf(pcb) < p->tot_len || tcp_sndqueuelen(pcb) + pbuf_clen(p) + 1 >= TCP_SND_QUEUELEN)
        return ERR_MEM;
    for (struct pbuf* q = p; q != NULL; q = q->next) {
        if (tcp_write(pcb, q->payload, q->len,
                      TCP_WRITE_FLAG_COPY | (q->next ? TCP_WRITE_FLAG_MORE : 0)) != ERR_OK)
            break; /* cannot happen after the check above */
    }
    c->bytes += p->tot_len;
    bytes_in += p->tot_len;
    bytes_out += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    tcp_output(pcb);
    return ERR_OK;
}

static err_t echo_sent(void* arg, struct tcp_pcb* pcb, u16_t len) {
    (void)arg;
    (void)len;
    if (pcb->refused_data != NULL) tcp_process_refused_data(pcb);
    return ERR_OK;
}

/* ---- http:80 (one fixed response, then close) ---- */

static const char http_reply[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: close\r\n\r\n"
    "0123456789abcde\n";

static err_t http_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
    static const char end[] = "\r\n\r\n";
    struct conn* c = arg;
    (void)err;
    if (p == NULL) {
        conn_close(pcb, c);
        return ERR_OK;
    }
    int done = 0;
    for (struct pbuf* q = p; q != NULL && !done; q = q->next) {
        const char* s = q->payload;
        for (u16_t i = 0; i < q->len; ++i) {
            c->head_match =
                (s[i] == end[c->head_match]) ? c->head_match + 1 : (s[i] == '\r' ? 1 : 0);
            if (c->head_match == 4) {
                done = 1;
                break;
            }
        }
    }
    bytes_in += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (done) {
        tcp_write(pcb, http_reply, sizeof http_reply - 1, TCP_WRITE_FLAG_COPY);
        bytes_out += sizeof http_reply - 1;
        conn_close(pcb, c); /* FIN right behind the reply */
    }
    return ERR_OK;
}

/* ---- listeners ---- */

static err_t on_accept(void* arg, struct tcp_pcb* pcb, err_t err) {
    uintptr_t port = (uintptr_t)arg;
    if (err != ERR_OK || pcb == NULL) return ERR_VAL;
    bound_time_wait();
    struct conn* c = conn_new();
    tcp_arg(pcb, c);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, poll_close, 2);
    switch (port) {
        case 9: tcp_recv(pcb, discard_recv); break;
        case 19:
            tcp_recv(pcb, chargen_recv);
            tcp_sent(pcb, chargen_sent);
            chargen_fill(pcb, c);
            break;
        case 7:
            tcp_nagle_disable(pcb);
            tcp_recv(pcb, echo_recv);
            tcp_sent(pcb, echo_sent);
            break;
        default:
            tcp_nagle_disable(pcb);
            tcp_recv(pcb, http_recv);
            break;
    }
    return ERR_OK;
}

static void listen_on(u16_t port) {
    struct tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
        fprintf(stderr, "lwip_peer: cannot bind port %u\n", port);
        exit(1);
    }
    struct tcp_pcb* l = tcp_listen_with_backlog(pcb, 255);
    if (l == NULL) {
        fprintf(stderr, "lwip_peer: cannot listen on port %u\n", port);
        exit(1);
    }
    tcp_arg(l, (void*)(uintptr_t)port);
    tcp_accept(l, on_accept);
}

static int tun_open(const char* name) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: lwip_peer TUN ADDR [--max-time-wait N]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max-time-wait") == 0)
            max_time_wait = (unsigned)strtoul(argv[i + 1], NULL, 10);
    }
    ip4_addr_t addr, mask, gw;
    if (!ip4addr_aton(argv[2], &addr)) {
        fprintf(stderr, "lwip_peer: bad address %s\n", argv[2]);
        return 2;
    }
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    tun_fd = tun_open(argv[1]);
    if (tun_fd < 0) {
        fprintf(stderr, "lwip_peer: cannot open TUN %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (size_t line = 0; line < CYCLE; ++line) {
        for (size_t i = 0; i < 72; ++i)
            pattern[line * LINE + i] = (unsigned char)(' ' + (line + i) % CYCLE);
        pattern[line * LINE + 72] = '\r';
        pattern[line * LINE + 73] = '\n';
    }
    memcpy(pattern + PATTERN, pattern, PATTERN);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    lwip_init(); /* not tcpip_init(): no tcpip thread, this loop is the only thread */
    static struct netif nif;
    if (netif_add(&nif, &addr, &mask, &gw, NULL, tun_netif_init, ip_input) == NULL) {
        fprintf(stderr, "lwip_peer: netif_add failed\n");
        return 1;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    listen_on(9);
    listen_on(19);
    listen_on(7);
    listen_on(80);
    fprintf(stderr,
            "lwip_peer: ready on %s as %s (lwIP %s, TCP_WND %u, TCP_SND_BUF %u, TCP_MSS %u)\n",
            argv[1], argv[2], LWIP_VERSION_STRING, (unsigned)TCP_WND, (unsigned)TCP_SND_BUF,
            (unsigned)TCP_MSS);

    struct pollfd pfd = {.fd = tun_fd, .events = POLLIN};
    while (!stop) {
        u32_t sleep_ms = sys_timeouts_sleeptime();
        int timeout = sleep_ms > 100 ? 100 : (int)sleep_ms;
        int r = poll(&pfd, 1, timeout);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "lwip_peer: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; r > 0 && i < READ_BATCH; ++i) {
            struct pbuf* p = pbuf_alloc(PBUF_RAW, MAX_PKT, PBUF_RAM);
            if (p == NULL) break;
            ssize_t n = read(tun_fd, p->payload, MAX_PKT);
            if (n <= 0) {
                pbuf_free(p);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    fprintf(stderr, "lwip_peer: read: %s\n", strerror(errno));
                    return 1;
                }
                break;
            }
            ++pkts_in;
            pbuf_realloc(p, (u16_t)n);
            reopen_time_wait(p->payload, (size_t)n);
            if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
        }
        sys_check_timeouts();
    }
    unsigned tw = 0;
    for (struct tcp_pcb* pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) ++tw;
    fprintf(stderr,
            "lwip_peer: done, %llu packets in, %llu out (%llu writes refused), app bytes in %llu, "
            "out %llu, "
            "%u in TIME-WAIT (bound %u), %llu reopened by a new SYN\n",
            pkts_in, pkts_out, write_errors, bytes_in, bytes_out, tw, max_time_wait, tw_reopened);
    return 0;
}
