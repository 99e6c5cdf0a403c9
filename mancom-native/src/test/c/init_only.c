/* init_only.c -- prints what mancom_init said; exit code 0 if it succeeded. */
#include <mancom.h>

#include <stdio.h>

int main(void) {
    int rc = mancom_init(NULL);
    printf("init %d %s\n", rc, rc < 0 ? mancom_last_error() : "ok");
    mancom_shutdown();
    return rc < 0 ? 2 : 0;
}
