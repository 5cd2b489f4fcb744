#ifndef KEDGE_TESTUTIL_H
#define KEDGE_TESTUTIL_H
#endif
