// The thread pools under load: three threads start regions at once, two sharing lane 0 (so most of
// theirs run on their caller) and one on lane 1, with 1 to 4 threads each, some with a region inside
// every task; every task index must run exactly once. Then two threads on lanes of their own must
// each get help from their lane's workers while the other runs. tools/test_c_kernels.sh builds it
// with ThreadSanitizer too.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "CVectorKernels.h"

typedef struct {
    atomic_int *hits;
    long count;
} Region;

static void count_task(void *context, long index) {
    Region *region = context;
    atomic_fetch_add(&region->hits[index], 1);
}

static void nested_task(void *context, long index) {
    Region *outer = context;
    Region inner = {outer->hits + index * 10, 10};
    danet_parallel_run(10, 2, count_task, &inner);
}

static void *caller(void *argument) {
    long wrong = 0;
    if ((long)argument == 2 && danet_parallel_set_lane(1) != 0) return (void *)1L;
    for (int round = 0; round < 2000; round++) {
        const long count = 1 + (round * 7919 + (long)argument) % 300;
        const int nested = round % 5 == 0;
        const long total = nested ? count * 10 : count;
        atomic_int *hits = calloc((size_t)total, sizeof(atomic_int));
        Region region = {hits, count};
        danet_parallel_run(count, 1 + round % 4, nested ? nested_task : count_task, &region);
        for (long i = 0; i < total; i++) wrong += atomic_load(&hits[i]) != 1;
        free(hits);
    }
    return (void *)wrong;
}

typedef struct {
    pthread_t caller;
    atomic_long helped;  // tasks run by a thread other than the caller
} Helped;

static void spin_task(void *context, long index) {
    (void)index;
    Helped *helped = context;
    if (!pthread_equal(pthread_self(), helped->caller)) atomic_fetch_add(&helped->helped, 1);
    for (volatile int i = 0; i < 20000; i++) {}
}

static void *lane_caller(void *argument) {
    danet_parallel_set_lane((int)(long)argument);
    Helped helped = {pthread_self(), 0};
    for (int round = 0; round < 200; round++) danet_parallel_run(16, 2, spin_task, &helped);
    return (void *)atomic_load(&helped.helped);
}

int main(void) {
    const int bounds = danet_parallel_set_lane(-1) == -1 && danet_parallel_set_lane(DANET_MAX_LANES) == -1;
    printf("lanes out of range refused: %s\n", bounds ? "yes" : "no");
    pthread_t threads[3];
    long wrong = 0;
    for (long i = 0; i < 3; i++) pthread_create(&threads[i], NULL, caller, (void *)i);
    for (int i = 0; i < 3; i++) {
        void *result;
        pthread_join(threads[i], &result);
        wrong += (long)result;
    }
    printf("thread pool: %ld task indices run other than once\n", wrong);
    pthread_t lanes[2];
    long helped[2];
    for (long i = 0; i < 2; i++) pthread_create(&lanes[i], NULL, lane_caller, (void *)(i + 2));
    for (int i = 0; i < 2; i++) {
        void *result;
        pthread_join(lanes[i], &result);
        helped[i] = (long)result;
    }
    const int both = helped[0] > 0 && helped[1] > 0;
    printf("two callers on lanes 2 and 3 at once: %ld and %ld tasks run by their lanes' workers\n", helped[0], helped[1]);
    const int passed = (wrong == 0) + both + bounds;
    printf("%d passed, %d failed\n", passed, 3 - passed);
    return passed == 3 ? 0 : 1;
}
