/* Helpers shared by kedge's tests. Include after <cmocka.h>'s prerequisites. */
#ifndef KEDGE_TESTUTIL_H
#define KEDGE_TESTUTIL_H

#include "capture.h"
#include "run.h"
#include "vectors.h"

#endif
