// The thread pool under load: three threads start regions at once (so most run on their caller),
// with 1 to 4 threads each, some with a region inside every task; every task index must run
// exactly once. tools/test_c_kernels.sh builds it with ThreadSanitizer too.
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

int main(void) {
    pthread_t threads[3];
    long wrong = 0;
    for (long i = 0; i < 3; i++) pthread_create(&threads[i], NULL, caller, (void *)i);
    for (int i = 0; i < 3; i++) {
        void *result;
        pthread_join(threads[i], &result);
        wrong += (long)result;
    }
    printf("thread pool: %ld task indices run other than once\n", wrong);
    printf("%d passed, %d failed\n", wrong == 0, wrong != 0);
    return wrong == 0 ? 0 : 1;
}
