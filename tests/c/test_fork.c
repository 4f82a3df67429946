/* fork(): a child of a process that started the library gets BRS_EFORKED
 * at once from every call, instead of hanging in the Go runtime. */
#include <errno.h>
#include <signal.h>
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

int main(void) {
    RUN(test_fork_child_gets_eforked);
    return harness_exit();
}
