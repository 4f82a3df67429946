/*
 * brsver.h — the version of gobrs (libbrs.so) for the preprocessor.
 *
 * Generated from the file VERSION by `make version`: do not edit. brs.h
 * includes it. These macros tell the version of the header a program was
 * compiled against; brs_version() tells the version of the library loaded
 * at run time (the library returns the BRS_VERSION it was built with).
 *
 *   #if BRS_AT_LEAST_VERSION(0, 2, 0)
 *   ... code that needs gobrs 0.2.0 or later ...
 *   #endif
 */
#ifndef BRSVER_H
#define BRSVER_H

/* The version as a string, "MAJOR.MINOR.PATCH". */
#define BRS_VERSION "0.1.0"

/* The version as numbers. */
#define BRS_VERSION_MAJOR 0
#define BRS_VERSION_MINOR 1
#define BRS_VERSION_PATCH 0

/* The version as one number, 0xXXYYZZ: 8 bits each for major, minor and
 * patch (0.1.0 is 0x000100). A later release always has a larger number. */
#define BRS_VERSION_NUM 0x000100

/* True when this header is version x.y.z or later. */
#define BRS_AT_LEAST_VERSION(x, y, z) \
    (BRS_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

#endif /* BRSVER_H */
