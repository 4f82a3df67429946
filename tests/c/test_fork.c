/* fork(): a child of a process that started the library gets BRS_EFORKED
 * at once from every call, instead of hanging in the Go runtime. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* In the child: exit with `code` when cond is false. */
#define CHILD_EXPECT(cond, code)                                                 \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "child: check %d failed: %s\n", code, #cond);        \
            _exit(code);                                                         \
        }                                                                        \
    } while (0)

static void child_main(brs_session s) {
    alarm(20); /* a hang in the child kills it: the parent sees SIGALRM */
    brs_error err = {0};
    struct brs_credentials c = {0};
    CHILD_EXPECT(brs_credentials(s, &c, &err) == BRS_EFORKED, 10);
    CHILD_EXPECT(err.status == BRS_EFORKED, 11);
    CHILD_EXPECT(err.message != NULL && strstr(err.message, "fork") != NULL, 12);
    CHILD_EXPECT(c.access_key == NULL, 13);
    brs_error_clear(&err);
    CHILD_EXPECT(brs_refresh(s, &c, &err) == BRS_EFORKED, 14);
    brs_error_clear(&err);
    char *json = NULL;
    CHILD_EXPECT(brs_whoami(s, &json, NULL) == BRS_EFORKED && json == NULL, 15);
    brs_session s2 = 0;
    struct getter g = {.lifetime_ms = 3600 * 1000};
    CHILD_EXPECT(open_session(&g, "", &s2, &err) == BRS_EFORKED && s2 == 0, 16);
    brs_error_clear(&err);
    CHILD_EXPECT(atomic_load(&g.calls) == 0, 17);
    brs_result *bogus = (brs_result *)&g; /* never dereferenced in a child */
    CHILD_EXPECT(brs_result_set(bogus, "access_key", "x") == BRS_EFORKED, 18);
    brs_set_logger(NULL, NULL);
    CHILD_EXPECT(brs_close_session(s) == BRS_EFORKED, 19);
    CHILD_EXPECT(brs_version() != NULL, 20);
    _exit(0);
}

static volatile sig_atomic_t alarmed = 0;
static void on_alarm(int sig) { (void)sig, alarmed = 1; }

static void test_fork_child_gets_eforked(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    /* Start goroutines and timers: an eager fetch with background refresh. */
    CHECK_STATUS(open_session(&g, "\"defer_refresh\": false, \"background_refresh\": true", &s,
                              &err),
                 BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    brs_credentials_clear(&c);

    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) child_main(s);

    /* The parent waits at most a minute (valgrind is slow to start a
     * child's exit), then kills the child and fails. */
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(60);
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    alarm(0);
    if (got != pid) {
        CHECK(errno == EINTR && alarmed);
        fprintf(stderr, "child did not exit in time: killing it\n");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(!"child hung");
    } else {
        CHECK(WIFEXITED(status));
        if (WIFSIGNALED(status)) fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
        CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    }

    /* The parent is unaffected. */
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000001");
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(atomic_load(&g.calls), 1);
}

/* The child side of the channel, in plain C: no libbrs call at all. */
static void channel_child(const char *path, const char *token, brs_session s) {
    alarm(20);
    char *p = NULL, *t = NULL;
    CHILD_EXPECT(brs_channel_open(NULL, &p, &t, NULL) == BRS_EFORKED && p == NULL && t == NULL, 30);
    CHILD_EXPECT(brs_channel_close() == BRS_EFORKED, 31);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    CHILD_EXPECT(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0, 32);
    char req[256];
    int n = snprintf(req, sizeof req, "{\"token\": \"%s\", \"op\": \"credentials\", \"session\": %llu}\n",
                     token, (unsigned long long)s);
    CHILD_EXPECT(write(fd, req, (size_t)n) == n, 33);
    char answer[4096] = {0};
    size_t got = 0;
    while (got < sizeof answer - 1 && strchr(answer, '\n') == NULL) {
        ssize_t r = read(fd, answer + got, sizeof answer - 1 - got);
        CHILD_EXPECT(r > 0, 34);
        got += (size_t)r;
    }
    CHILD_EXPECT(strstr(answer, "\"access_key\":\"TESTAK0000000001\"") != NULL, 35);
    CHILD_EXPECT(strstr(answer, "\"valid_for_ms\":") != NULL, 36);
    close(fd);
    _exit(0);
}

static void test_channel_readable_from_c_without_libbrs(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "\"defer_refresh\": false", &s, &err), BRS_OK, &err);
    char dir[] = "/tmp/brs-channel-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[64];
    snprintf(sub, sizeof sub, "%s/ch", dir);
    char *path = NULL, *token = NULL;
    CHECK_INT(brs_channel_open(sub, NULL, &token, &err), BRS_EVALIDATION);
    brs_error_clear(&err);
    CHECK_STATUS(brs_channel_open(sub, &path, &token, &err), BRS_OK, &err);
    CHECK(path != NULL && token != NULL && strlen(token) == 64);
    char *path2 = NULL, *token2 = NULL; /* the same channel, opened once */
    CHECK_STATUS(brs_channel_open(NULL, &path2, &token2, &err), BRS_OK, &err);
    CHECK_STR(path2, path);
    brs_free(path2);
    brs_free(token2);

    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) channel_child(path, token, s);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);

    CHECK_INT(brs_channel_close(), BRS_OK);
    CHECK(access(path, F_OK) != 0); /* the socket is gone */
    CHECK_INT(brs_channel_close(), BRS_OK);
    CHECK_INT(atomic_load(&g.calls), 1); /* the child read the parent's copy */
    CHECK_INT(brs_close_session(s), BRS_OK);
    rmdir(sub);
    rmdir(dir);
    brs_free(path);
    brs_free(token);
}

int main(void) {
    RUN(test_fork_child_gets_eforked);
    RUN(test_channel_readable_from_c_without_libbrs);
    return harness_exit();
}
