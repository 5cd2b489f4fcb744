/* Captures what this process writes to stderr (kedge_log's lines) while a test runs. */
#ifndef KEDGE_TEST_CAPTURE_H
#define KEDGE_TEST_CAPTURE_H

/* Redirects stderr to a temporary file until capture_end. Not nested. */
void capture_start(void);
/* Restores stderr and returns everything written meanwhile, NUL-terminated (caller frees). */
char *capture_end(void);

#endif
