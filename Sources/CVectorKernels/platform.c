// The operating-system calls of this module: the CPUs this process may use (its affinity mask, as
// taskset, Slurm and cpusets set it, and its cgroup's CPU quota, a container's or a Slurm job's
// limit), the ARM64 HWCAP bits and /proc/cpuinfo's flags, and OpenBLAS, loaded only when a
// product asks for it.
#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "CVectorKernels.h"

#if defined(__linux__)
// ceil(quota / period) from a cgroup v2 cpu.max ("max 100000" or "150000 100000"), or 0 for no limit.
static long cgroup2_limit(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    char quota[32] = "";
    long period = 0, limit = 0;
    if (fscanf(file, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
        long value = 0;
        if (sscanf(quota, "%ld", &value) == 1 && value > 0) limit = (value + period - 1) / period;
    }
    fclose(file);
    return limit;
}

// The same for cgroup v1's cpu.cfs_quota_us (-1: no limit) and cpu.cfs_period_us in `directory`.
static long cgroup1_limit(const char *directory) {
    char path[1024];
    long quota = -1, period = 0;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", directory) >= (int)sizeof path) return 0;
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    if (fscanf(file, "%ld", &quota) != 1) quota = -1;
    fclose(file);
    if (snprintf(path, sizeof path, "%s/cpu.cfs_period_us", directory) >= (int)sizeof path) return 0;
    file = fopen(path, "r");
    if (!file) return 0;
    if (fscanf(file, "%ld", &period) != 1) period = 0;
    fclose(file);
    return quota > 0 && period > 0 ? (quota + period - 1) / period : 0;
}

// True when the comma-separated controller list of a /proc/self/cgroup line names `cpu`.
static int names_cpu(const char *controllers, size_t length) {
    for (size_t i = 0; i + 3 <= length; i++)
        if (strncmp(controllers + i, "cpu", 3) == 0 && (i == 0 || controllers[i - 1] == ',') &&
            (i + 3 == length || controllers[i + 3] == ','))
            return 1;
    return 0;
}

// The tightest limit of `file` (cpu.max or the v1 pair) in `root` + `relative` and every parent up
// to `root` ("/a/b" is checked as ROOT/a/b, ROOT/a and ROOT).
static long tightest(const char *root, char *relative, int v2) {
    long limit = 0;
    if (strcmp(relative, "/") == 0) relative[0] = 0;
    for (;;) {
        char path[1024];
        if (snprintf(path, sizeof path, v2 ? "%s%s/cpu.max" : "%s%s", root, relative) >= (int)sizeof path) break;
        const long here = v2 ? cgroup2_limit(path) : cgroup1_limit(path);
        if (here > 0 && (limit == 0 || here < limit)) limit = here;
        char *slash = strrchr(relative, '/');
        if (!slash) break;
        *slash = 0;
    }
    return limit;
}

// This process's cgroups (from /proc/self/cgroup): the v2 one ("0::/path") and the v1 cpu
// controller's ("N:cpu,cpuacct:/path"); inside a container with its own cgroup namespace both are "/".
static long cgroup_limit(void) {
    char v2[400] = "", v1[400] = "";
    int has_v2 = 0, has_v1 = 0;
    FILE *file = fopen("/proc/self/cgroup", "r");
    if (file) {
        char line[512];
        while (fgets(line, sizeof line, file)) {
            line[strcspn(line, "\n")] = 0;
            char *first = strchr(line, ':'), *second = first ? strchr(first + 1, ':') : NULL;
            if (!second) continue;
            if (strncmp(line, "0::", 3) == 0) {
                snprintf(v2, sizeof v2, "%s", second + 1);
                has_v2 = 1;
            } else if (names_cpu(first + 1, (size_t)(second - first - 1))) {
                snprintf(v1, sizeof v1, "%s", second + 1);
                has_v1 = 1;
            }
        }
        fclose(file);
    }
    const long a = has_v2 ? tightest("/sys/fs/cgroup", v2, 1) : 0;
    const long b = has_v1 ? tightest("/sys/fs/cgroup/cpu", v1, 0) : 0;
    return a > 0 && (b == 0 || a < b) ? a : b;
}
#endif

int danet_arm_read(unsigned long *hwcap, unsigned long *hwcap2) {
    *hwcap = 0;
    *hwcap2 = 0;
#if defined(__aarch64__) && defined(__linux__)
    *hwcap = getauxval(AT_HWCAP);
    *hwcap2 = getauxval(AT_HWCAP2);
    return 1;
#else
    return 0;
#endif
}

// One value of /proc/cpuinfo (its first CPU), e.g. "flags" on x86-64 or "Features" on ARM64: what
// the kernel reports the CPU has, to compare with what CPUID and XGETBV told this process.
int danet_cpuinfo_value(const char *key, char *buffer, size_t size) {
    if (!size) return 0;
    buffer[0] = 0;
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (!file) return 0;
    char line[16384];
    const size_t length = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, file)) {
        if (strncmp(line, key, length) != 0 || (line[length] != ' ' && line[length] != '\t' && line[length] != ':')) continue;
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        snprintf(buffer, size, "%s", colon + 1);
        buffer[strcspn(buffer, "\n")] = 0;
        found = 1;
    }
    fclose(file);
    return found;
}

void danet_cpu_limits(long *online, long *affinity, long *quota) {
    *online = sysconf(_SC_NPROCESSORS_ONLN);
    *affinity = 0;
    *quota = 0;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) *affinity = CPU_COUNT(&set);
    *quota = cgroup_limit();
#endif
}

long danet_available_cpus(void) {
    long online, affinity, quota;
    danet_cpu_limits(&online, &affinity, &quota);
    const long cpus = affinity > 0 ? affinity : online > 0 ? online : 1;
    return quota > 0 && quota < cpus ? quota : cpus;
}

// OpenBLAS starts its own worker threads when it loads, and they spin for a while before they
// sleep. Loaded on first use instead of linked, it costs nothing to a process that never calls it,
// and its workers never run: every call is one part of a product split on the package's threads.
typedef void (*SgemmFunction)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                              int lda, const float *b, int ldb, float beta, float *c, int ldc);
static SgemmFunction openblas_sgemm;
static pthread_once_t openblas_once = PTHREAD_ONCE_INIT;

static void load_openblas(void) {
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !openblas_sgemm; i++) {
        void *library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!library) continue;
        SgemmFunction sgemm = (SgemmFunction)dlsym(library, "cblas_sgemm");
        void (*set_threads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
        if (!sgemm) {
            dlclose(library);
            continue;
        }
        if (set_threads) set_threads(1);
        openblas_sgemm = sgemm;
    }
}

int danet_openblas_available(void) {
    pthread_once(&openblas_once, load_openblas);
    return openblas_sgemm != NULL;
}

void danet_openblas_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                          const float *b, long ldb, float beta, float *c, long ldc) {
    enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };  // CBLAS_ORDER and CBLAS_TRANSPOSE
    if (!danet_openblas_available()) return;
    openblas_sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, alpha, a,
                   (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
