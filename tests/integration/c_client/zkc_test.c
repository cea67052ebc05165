/* A small client on the Apache ZooKeeper C library (libzookeeper_mt), driven by
 * tests/integration/test_c_client_api.py. The test compiles it at run time:
 *
 *   cc -o zkc_test zkc_test.c -I/usr/include/zookeeper -lzookeeper_mt
 *
 * Usage:
 *   zkc_test ops HOST BASE           run the API scenario under BASE (must not exist)
 *   zkc_test expire HOST PATH MS     open a session with timeout MS, create the ephemeral
 *                                    PATH, print "READY", then report session states until
 *                                    ZOO_EXPIRED_SESSION_STATE (or 60 s pass)
 *   zkc_test rewatch HOST PATH       set data, exists (PATH/missing) and child watches on PATH,
 *                                    print "READY", then report the first three node events
 *                                    (the test cuts the connection and changes PATH meanwhile)
 *
 * Output: one result a line, "TAG key=value ...". Watch notifications are printed as
 * "EVENT tag=WATCHER type=TYPE path=PATH" when the main thread collects them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper.h>

/* ------------------------------------------------------------------ event queue */

#define MAX_EVENTS 256
struct event {
    const char *tag;
    int type;
    int state;
    char path[512];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct event events[MAX_EVENTS];
static int n_events = 0;
static int taken = 0;

static const char *type_name(int t) {
    if (t == ZOO_CREATED_EVENT) return "CREATED";
    if (t == ZOO_DELETED_EVENT) return "DELETED";
    if (t == ZOO_CHANGED_EVENT) return "CHANGED";
    if (t == ZOO_CHILD_EVENT) return "CHILD";
    if (t == ZOO_SESSION_EVENT) return "SESSION";
    if (t == ZOO_NOTWATCHING_EVENT) return "NOTWATCHING";
    return "OTHER";
}

static const char *state_name(int s) {
    if (s == ZOO_EXPIRED_SESSION_STATE) return "EXPIRED";
    if (s == ZOO_AUTH_FAILED_STATE) return "AUTH_FAILED";
    if (s == ZOO_CONNECTING_STATE) return "CONNECTING";
    if (s == ZOO_ASSOCIATING_STATE) return "ASSOCIATING";
    if (s == ZOO_CONNECTED_STATE) return "CONNECTED";
    if (s == ZOO_READONLY_STATE) return "READONLY";
    if (s == ZOO_NOTCONNECTED_STATE) return "NOTCONNECTED";
    if (s == 0) return "CLOSED";
    return "OTHER";
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh;
    pthread_mutex_lock(&mu);
    if (n_events < MAX_EVENTS) {
        struct event *e = &events[n_events++];
        e->tag = ctx ? (const char *)ctx : "GLOBAL";
        e->type = type;
        e->state = state;
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void deadline_after(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for the next not-yet-taken event; prints it. Returns 0 on timeout. */
static int next_event(int ms, struct event *out) {
    struct timespec ts;
    deadline_after(&ts, ms);
    pthread_mutex_lock(&mu);
    while (taken >= n_events) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&mu);
            printf("EVENT tag=NONE\n");
            return 0;
        }
    }
    *out = events[taken++];
    pthread_mutex_unlock(&mu);
    if (out->type == ZOO_SESSION_EVENT)
        printf("EVENT tag=%s type=SESSION state=%s\n", out->tag, state_name(out->state));
    else
        printf("EVENT tag=%s type=%s path=%s\n", out->tag, type_name(out->type), out->path);
    fflush(stdout);
    return 1;
}

/* Skip session events until CONNECTED. */
static int wait_connected(int ms) {
    struct event e;
    while (next_event(ms, &e)) {
        if (e.type == ZOO_SESSION_EVENT && e.state == ZOO_CONNECTED_STATE) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ printing */

static void out(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void print_stat(const char *tag, int rc, const struct Stat *s) {
    if (rc != ZOK) {
        out("%s rc=%d", tag, rc);
        return;
    }
    out("%s rc=0 czxid=%lld mzxid=%lld pzxid=%lld version=%d cversion=%d aversion=%d "
        "owner=%lld dataLength=%d numChildren=%d",
        tag, (long long)s->czxid, (long long)s->mzxid, (long long)s->pzxid, s->version,
        s->cversion, s->aversion, (long long)s->ephemeralOwner, s->dataLength,
        s->numChildren);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_children(const char *tag, int rc, struct String_vector *v) {
    if (rc != ZOK) {
        out("%s rc=%d", tag, rc);
        return;
    }
    qsort(v->data, v->count, sizeof(char *), cmp_str);
    printf("%s rc=0 count=%d children=", tag, v->count);
    for (int i = 0; i < v->count; i++) printf("%s%s", i ? "," : "", v->data[i]);
    printf("\n");
    fflush(stdout);
    deallocate_String_vector(v);
}

static void print_acl(const char *tag, int rc, struct ACL_vector *acl, const struct Stat *s) {
    if (rc != ZOK) {
        out("%s rc=%d", tag, rc);
        return;
    }
    printf("%s rc=0 aversion=%d acl=", tag, s->aversion);
    for (int i = 0; i < acl->count; i++)
        printf("%s%s:%s:%d", i ? "," : "", acl->data[i].id.scheme, acl->data[i].id.id,
               acl->data[i].perms);
    printf("\n");
    fflush(stdout);
    deallocate_ACL_vector(acl);
}

/* ------------------------------------------------------------------ auth completion */

static int auth_rc = 1;
static void auth_done(int rc, const void *data) {
    (void)data;
    pthread_mutex_lock(&mu);
    auth_rc = rc;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int add_auth(zhandle_t *zh, const char *cred) {
    pthread_mutex_lock(&mu);
    auth_rc = 1;
    pthread_mutex_unlock(&mu);
    int rc = zoo_add_auth(zh, "digest", cred, (int)strlen(cred), auth_done, NULL);
    if (rc != ZOK) return rc;
    struct timespec ts;
    deadline_after(&ts, 10000);
    pthread_mutex_lock(&mu);
    while (auth_rc == 1) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) break;
    }
    rc = auth_rc;
    pthread_mutex_unlock(&mu);
    return rc;
}

/* ------------------------------------------------------------------ scenarios */

static char P[64][600];
static int np = 0;
static const char *path(const char *base, const char *suffix) {
    char *p = P[np++ % 64];
    snprintf(p, 600, "%s%s", base, suffix);
    return p;
}

static int scenario_ops(const char *host, const char *b) {
    zhandle_t *zh = zookeeper_init(host, watcher, 10000, NULL, NULL, 0);
    if (!zh || !wait_connected(15000)) {
        out("CONNECT failed");
        return 2;
    }
    out("SESSION id=%lld", (long long)zoo_client_id(zh)->client_id);

    char buf[1024];
    struct Stat st;
    int rc;
    struct event e;

    rc = zoo_create(zh, b, "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    out("create_base rc=%d path=%s", rc, rc == ZOK ? buf : "");

    /* sequential ephemerals */
    for (int i = 0; i < 2; i++) {
        rc = zoo_create(zh, path(b, "/seq-"), "s", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_SEQUENCE | ZOO_EPHEMERAL, buf, sizeof buf);
        out("create_seq%d rc=%d path=%s", i, rc, rc == ZOK ? buf : "");
    }
    /* truncated path buffer */
    char small[8];
    rc = zoo_create(zh, path(b, "/trunc-"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE,
                    small, sizeof small);
    out("create_trunc rc=%d path=%s", rc, rc == ZOK ? small : "");

    /* create2 returns the Stat */
    rc = zoo_create2(zh, path(b, "/c2"), "abc", 3, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf,
                     &st);
    out("create2_path rc=%d path=%s", rc, rc == ZOK ? buf : "");
    print_stat("create2_stat", rc, &st);
    rc = zoo_create2(zh, path(b, "/c2e"), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, buf,
                     sizeof buf, &st);
    print_stat("create2_eph_stat", rc, &st);
    rc = zoo_create2(zh, path(b, "/cont"), "k", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, buf,
                     sizeof buf, &st);
    print_stat("create2_container_stat", rc, &st);
    rc = zoo_create2(zh, path(b, "/c2"), "abc", 3, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf,
                     &st);
    out("create2_exists rc=%d", rc);
    rc = zoo_create(zh, path(b, "/c2e/child"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf,
                    sizeof buf);
    out("create_under_ephemeral rc=%d", rc);
    rc = zoo_create(zh, path(b, "/none/child"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf,
                    sizeof buf);
    out("create_no_parent rc=%d", rc);

    /* get with a watcher, then set fires it */
    int len = sizeof buf;
    rc = zoo_wget(zh, path(b, "/c2"), watcher, "data", buf, &len, &st);
    out("wget rc=%d len=%d data=%.*s version=%d", rc, len, len > 0 ? len : 0, buf, st.version);
    rc = zoo_set(zh, path(b, "/c2"), "xyz", 3, 0);
    out("set rc=%d", rc);
    next_event(10000, &e);
    rc = zoo_set(zh, path(b, "/c2"), "q", 1, 0);
    out("set_badversion rc=%d", rc);
    rc = zoo_set2(zh, path(b, "/c2"), "hello", 5, 1, &st);
    print_stat("set2_stat", rc, &st);
    len = sizeof buf;
    rc = zoo_get(zh, path(b, "/c2"), 0, buf, &len, &st);
    out("get rc=%d len=%d data=%.*s version=%d", rc, len, len > 0 ? len : 0, buf, st.version);
    len = sizeof buf;
    rc = zoo_get(zh, path(b, "/cont"), 0, buf, &len, &st);
    out("get_container rc=%d len=%d", rc, len);
    len = sizeof buf;
    rc = zoo_get(zh, path(b, "/trunc-0000000002"), 0, buf, &len, &st);
    out("get_null_data rc=%d len=%d", rc, len);

    /* exists watch on a missing node, fired by its creation */
    rc = zoo_wexists(zh, path(b, "/later"), watcher, "exists", &st);
    out("wexists_missing rc=%d", rc);
    rc = zoo_create(zh, path(b, "/later"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    out("create_later rc=%d", rc);
    next_event(10000, &e);
    rc = zoo_wexists(zh, path(b, "/later"), watcher, "exists2", &st);
    print_stat("wexists_present", rc, &st);

    /* children with stat and a child watch */
    struct String_vector kids;
    rc = zoo_wget_children2(zh, b, watcher, "child", &kids, &st);
    print_children("wget_children2", rc, &kids);
    print_stat("wget_children2_stat", rc, &st);
    rc = zoo_delete(zh, path(b, "/later"), -1);
    out("delete_later rc=%d", rc);
    /* both the exists watch (DELETED on /later) and the child watch (CHILD on base) fire */
    next_event(10000, &e);
    next_event(10000, &e);
    rc = zoo_get_children2(zh, path(b, "/nope"), 0, &kids, &st);
    out("get_children2_missing rc=%d", rc);

    /* multi: success */
    zoo_op_t ops[4];
    zoo_op_result_t res[4];
    char mpath[256];
    struct Stat mstat;
    zoo_create_op_init(&ops[0], path(b, "/m1"), "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, mpath,
                       sizeof mpath);
    zoo_set_op_init(&ops[1], path(b, "/c2"), "multi", 5, 2, &mstat);
    zoo_check_op_init(&ops[2], path(b, "/c2"), 3);
    zoo_delete_op_init(&ops[3], path(b, "/trunc-0000000002"), 0);
    rc = zoo_multi(zh, 4, ops, res);
    out("multi rc=%d r0=%d r1=%d r2=%d r3=%d created=%s set_version=%d", rc, res[0].err,
        res[1].err, res[2].err, res[3].err, rc == ZOK ? mpath : "",
        rc == ZOK ? mstat.version : -1);
    /* multi: failure in the middle rolls everything back */
    zoo_create_op_init(&ops[0], path(b, "/m2"), "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, mpath,
                       sizeof mpath);
    zoo_check_op_init(&ops[1], path(b, "/c2"), 99);
    zoo_delete_op_init(&ops[2], path(b, "/m1"), -1);
    rc = zoo_multi(zh, 3, ops, res);
    out("multi_fail rc=%d r0=%d r1=%d r2=%d", rc, res[0].err, res[1].err, res[2].err);
    rc = zoo_exists(zh, path(b, "/m2"), 0, &st);
    out("exists_m2 rc=%d", rc);
    rc = zoo_exists(zh, path(b, "/m1"), 0, &st);
    out("exists_m1 rc=%d", rc);
    rc = zoo_delete(zh, path(b, "/c2"), 7);
    out("delete_badversion rc=%d", rc);
    rc = zoo_delete(zh, b, -1);
    out("delete_notempty rc=%d", rc);

    /* digest auth and ACLs */
    rc = add_auth(zh, "alice:secret");
    out("add_auth rc=%d", rc);
    rc = zoo_create(zh, path(b, "/secure"), "s", 1, &ZOO_CREATOR_ALL_ACL, 0, buf, sizeof buf);
    out("create_secure rc=%d", rc);
    struct ACL_vector acl;
    rc = zoo_get_acl(zh, path(b, "/secure"), &acl, &st);
    print_acl("get_acl", rc, &acl, &st);
    rc = zoo_create(zh, path(b, "/readonly"), "r", 1, &ZOO_CREATOR_ALL_ACL, 0, buf, sizeof buf);
    rc = zoo_set_acl(zh, path(b, "/readonly"), 0, &ZOO_READ_ACL_UNSAFE);
    out("set_acl rc=%d", rc);
    rc = zoo_set_acl(zh, path(b, "/readonly"), 0, &ZOO_READ_ACL_UNSAFE);
    out("set_acl_badversion rc=%d", rc);
    rc = zoo_get_acl(zh, path(b, "/readonly"), &acl, &st);
    print_acl("get_acl_readonly", rc, &acl, &st);
    rc = zoo_set(zh, path(b, "/readonly"), "w", 1, -1);
    out("set_readonly rc=%d", rc);
    rc = zoo_create(zh, path(b, "/bad-acl"), "", 0, &ZOO_CREATOR_ALL_ACL, 0, buf, 0);
    out("create_creator_acl rc=%d", rc);

    /* a second session without credentials */
    zhandle_t *other = zookeeper_init(host, watcher, 10000, NULL, "other", 0);
    if (!other || !wait_connected(15000)) {
        out("CONNECT2 failed");
        return 2;
    }
    rc = zoo_create(other, path(b, "/anon"), "", 0, &ZOO_CREATOR_ALL_ACL, 0, buf, sizeof buf);
    out("anon_create_creator_acl rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(other, path(b, "/secure"), 0, buf, &len, &st);
    out("anon_get rc=%d", rc);
    rc = zoo_get_acl(other, path(b, "/secure"), &acl, &st);
    out("anon_get_acl rc=%d", rc);
    rc = zoo_set(other, path(b, "/secure"), "x", 1, -1);
    out("anon_set rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(other, path(b, "/readonly"), 0, buf, &len, &st);
    out("anon_get_readonly rc=%d data=%.*s", rc, len > 0 ? len : 0, buf);
    rc = add_auth(other, "alice:wrong");
    out("anon_add_auth_wrong rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(other, path(b, "/secure"), 0, buf, &len, &st);
    out("wrong_get rc=%d", rc);
    rc = add_auth(other, "alice:secret");
    len = sizeof buf;
    rc = zoo_get(other, path(b, "/secure"), 0, buf, &len, &st);
    out("alice_get rc=%d data=%.*s", rc, len > 0 ? len : 0, buf);
    /* the ephemerals of the first session are visible to the second */
    rc = zoo_get_children(other, b, 0, &kids);
    print_children("other_children", rc, &kids);
    zookeeper_close(other);

    rc = zookeeper_close(zh);
    out("close rc=%d", rc);
    return 0;
}

static int scenario_expire(const char *host, const char *p, int timeout_ms) {
    zhandle_t *zh = zookeeper_init(host, watcher, timeout_ms, NULL, NULL, 0);
    if (!zh || !wait_connected(15000)) {
        out("CONNECT failed");
        return 2;
    }
    out("SESSION id=%lld timeout=%d", (long long)zoo_client_id(zh)->client_id,
        zoo_recv_timeout(zh));
    char buf[600];
    int rc = zoo_create(zh, p, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, buf, sizeof buf);
    out("create rc=%d", rc);
    out("READY");
    struct event e;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 60) break;
        if (!next_event(1000, &e)) continue;
        if (e.type == ZOO_SESSION_EVENT && e.state == ZOO_EXPIRED_SESSION_STATE) {
            out("state_now state=%s", state_name(zoo_state(zh)));
            out("unrecoverable rc=%d", is_unrecoverable(zh));
            struct Stat st;
            rc = zoo_exists(zh, p, 0, &st);
            out("exists_after_expiry rc=%d", rc);
            zookeeper_close(zh);
            out("DONE");
            return 0;
        }
    }
    out("TIMEOUT");
    return 3;
}

/* Watches set before a reconnect must be re-armed by the client (setWatches) and fire
 * for changes made while it was disconnected. */
static int scenario_rewatch(const char *host, const char *p) {
    zhandle_t *zh = zookeeper_init(host, watcher, 10000, NULL, NULL, 0);
    if (!zh || !wait_connected(15000)) {
        out("CONNECT failed");
        return 2;
    }
    long long sid = (long long)zoo_client_id(zh)->client_id;
    out("SESSION id=%lld", sid);
    char buf[600];
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing", p);
    struct Stat st;
    int len = sizeof buf;
    int rc = zoo_wget(zh, p, watcher, "data", buf, &len, &st);
    out("wget rc=%d", rc);
    rc = zoo_wexists(zh, missing, watcher, "exists", &st);
    out("wexists rc=%d", rc);
    struct String_vector kids;
    rc = zoo_wget_children(zh, p, watcher, "child", &kids);
    if (rc == ZOK) deallocate_String_vector(&kids);
    out("wget_children rc=%d", rc);
    out("READY");
    struct event e;
    int node_events = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (node_events < 3) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 40) {
            out("TIMEOUT");
            return 3;
        }
        if (next_event(1000, &e) && e.type != ZOO_SESSION_EVENT) node_events++;
    }
    out("SESSION_AFTER id=%lld", (long long)zoo_client_id(zh)->client_id);
    zookeeper_close(zh);
    out("DONE");
    return 0;
}

int main(int argc, char **argv) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    if (argc == 4 && strcmp(argv[1], "ops") == 0) return scenario_ops(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "rewatch") == 0) return scenario_rewatch(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "expire") == 0)
        return scenario_expire(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: %s ops HOST BASE | expire HOST PATH TIMEOUT_MS | rewatch HOST PATH\n",
            argv[0]);
    return 64;
}
