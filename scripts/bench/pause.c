/* Static pause-equivalent for the RSS baseline (after Kubernetes' pause.c):
 * exit on TERM/INT, reap children on CHLD, pause() forever. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void bye(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
    struct sigaction a = { .sa_handler = bye }, c = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP };
    sigaction(SIGINT, &a, NULL); sigaction(SIGTERM, &a, NULL); sigaction(SIGCHLD, &c, NULL);
    for (;;) pause();
}
