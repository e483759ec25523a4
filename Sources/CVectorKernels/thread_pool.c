// The package's thread pools. Workers wait for the next parallel region by spinning for a short
// while, then sleep on a condition variable: a region that follows shortly after the last one (most
// of a forward pass is such regions) starts without waking anyone from the kernel, and an idle
// process uses no CPU. The calling thread works too. A region started while another runs on the same
// pool, or from inside a region, runs on the calling thread alone, so concurrent callers never wait on
// each other.
//
// Pools are numbered lanes, each with its own workers: a thread picks its lane once, so that several
// threads (a server's model workers) each run regions on their own cores instead of one taking the
// pool and the others running alone. Every thread starts on lane 0.
#include "CVectorKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 255, MAX_LANES = DANET_MAX_LANES };
// How long an idle worker spins before it sleeps, in nanoseconds.
static const long spin_nanoseconds = 200 * 1000;

typedef struct {
    pthread_mutex_t lock;         // guards sleeping and the wake-up
    pthread_cond_t wake;
    atomic_flag busy;             // held by the thread running a region
    atomic_ulong generation;      // incremented to start a region
    // The region's generation (high 32 bits) and its next task index (low 32 bits): a worker still
    // leaving the last region cannot take an index of the next one, as its swap expects its own
    // generation.
    atomic_ullong next;
    atomic_long finished;         // tasks done in this region
    atomic_int sleepers;
    atomic_long count;            // tasks in this region
    atomic_int helpers;           // workers that take part in this region
    void (*task)(void *, long);
    void *context;
    int workers;                  // workers started so far
} Pool;

static Pool pools[MAX_LANES] = {
    [0 ... MAX_LANES - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .busy = ATOMIC_FLAG_INIT},
};
static _Thread_local int inside_region;
static _Thread_local int current_lane;

int danet_parallel_set_lane(int lane) {
    if (lane < 0 || lane >= MAX_LANES) return -1;
    current_lane = lane;
    return 0;
}

static long now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

#define CLOSED 0xFFFFFFFFull

// Takes task indices of region `generation` until none is left.
static void work(Pool *pool, unsigned long generation) {
    const unsigned long long tag = (unsigned long long)(generation & 0xFFFFFFFFul) << 32;
    long done = 0;
    unsigned long long value = atomic_load_explicit(&pool->next, memory_order_acquire);
    for (;;) {
        const unsigned long long index = value & 0xFFFFFFFFull;
        if ((value & ~0xFFFFFFFFull) != tag || index == CLOSED ||
            (long)index >= atomic_load_explicit(&pool->count, memory_order_relaxed))
            break;
        if (!atomic_compare_exchange_weak_explicit(&pool->next, &value, value + 1, memory_order_acquire, memory_order_acquire))
            continue;
        pool->task(pool->context, (long)index);
        done++;
        value = atomic_load_explicit(&pool->next, memory_order_acquire);
    }
    if (done) atomic_fetch_add_explicit(&pool->finished, done, memory_order_release);
}

static void *worker_main(void *argument) {
    const long packed = (long)argument;
    Pool *pool = &pools[packed >> 16];
    const int id = (int)(packed & 0xFFFF);
    inside_region = 1;
    unsigned long seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
    for (;;) {
        unsigned long current = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (current == seen) {
            const long deadline = now_nanoseconds() + spin_nanoseconds;
            for (int i = 0; current == seen; i++) {
                CPU_RELAX();
                current = atomic_load_explicit(&pool->generation, memory_order_acquire);
                if ((i & 255) == 255 && now_nanoseconds() > deadline) break;
            }
        }
        if (current == seen) {
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while ((current = atomic_load_explicit(&pool->generation, memory_order_seq_cst)) == seen)
                pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        seen = current;
        if (id < atomic_load_explicit(&pool->helpers, memory_order_relaxed)) work(pool, current);
    }
    return NULL;
}

// Starts workers until `wanted` exist; returns how many do.
static int ensure_workers(Pool *pool, int wanted) {
    if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
    while (pool->workers < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, (void *)(((long)(pool - pools) << 16) | pool->workers));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool->workers++;
    }
    return pool->workers;
}

void danet_parallel_run(long count, int threads, void (*task)(void *context, long index), void *context) {
    if (count <= 0) return;
    if (count >= (long)CLOSED) threads = 1;
    if (threads > count) threads = (int)count;
    Pool *const pool = &pools[current_lane];
    if (threads <= 1 || inside_region || atomic_flag_test_and_set_explicit(&pool->busy, memory_order_acquire)) {
        for (long index = 0; index < count; index++) task(context, index);
        return;
    }
    const int helpers = ensure_workers(pool, threads - 1);
    const unsigned long generation = atomic_load_explicit(&pool->generation, memory_order_relaxed) + 1;
    const unsigned long long tag = (unsigned long long)(generation & 0xFFFFFFFFul) << 32;
    // Closed first, so that no late worker of the last region takes an index while the fields change.
    atomic_store_explicit(&pool->next, tag | CLOSED, memory_order_seq_cst);
    atomic_store_explicit(&pool->count, count, memory_order_relaxed);
    pool->task = task;
    pool->context = context;
    atomic_store_explicit(&pool->helpers, helpers < threads - 1 ? helpers : threads - 1, memory_order_relaxed);
    atomic_store_explicit(&pool->finished, 0, memory_order_relaxed);
    // The releases publish the fields above to every worker that sees the open counter.
    atomic_store_explicit(&pool->next, tag, memory_order_release);
    // Sequentially consistent, like the sleepers count: a worker about to sleep either sees this
    // generation or is counted below and woken.
    atomic_store_explicit(&pool->generation, generation, memory_order_seq_cst);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    inside_region = 1;
    work(pool, generation);
    inside_region = 0;
    // Every index is handed out by now; wait for the ones still running on workers.
    while (atomic_load_explicit(&pool->finished, memory_order_acquire) < count) CPU_RELAX();
    atomic_flag_clear_explicit(&pool->busy, memory_order_release);
}
