// C11 threads (<threads.h>) routed through the POSIX threads calls that
// ThreadSanitizer intercepts; preloaded by `scripts/sanitize.sh tsan`.
//
// librdkafka starts its threads and guards its queues with C11's thrd_create,
// mtx_lock, cnd_wait... glibc (2.34 and later) implements those without
// calling pthread_create or pthread_mutex_lock, which is where TSan (Clang 14,
// GCC 12) learns of threads and locks. Without this library TSan does not
// know librdkafka's threads at all, and its runtime crashes (SEGV) the first
// time one of them enters instrumented code, such as a corps delivery
// callback; nor does it see the locks that order what one thread hands to
// another. Each function below does what glibc's does (nptl/thrd_*.c,
// mtx_*.c, cnd_*.c, call_once.c), through the public pthread call: the C11
// types are glibc's pthread types under other names.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

// glibc's thrd_err_map: POSIX error numbers to C11 results.
static int c11_result(int error) {
  switch (error) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct start {
  thrd_start_t func;
  void* arg;
};

static void* run(void* opaque) {
  struct start start = *(struct start*)opaque;
  free(opaque);
  // thrd_join reads the int result back from the pointer-sized one.
  return (void*)(intptr_t)start.func(start.arg);
}

int thrd_create(thrd_t* thread, thrd_start_t func, void* arg) {
  struct start* start = malloc(sizeof *start);
  if (start == NULL) return thrd_nomem;
  start->func = func;
  start->arg = arg;
  const int error = pthread_create((pthread_t*)thread, NULL, run, start);
  if (error != 0) free(start);
  return c11_result(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* value = NULL;
  const int error = pthread_join((pthread_t)thread, &value);
  if (error == 0 && result != NULL) *result = (int)(intptr_t)value;
  return c11_result(error);
}

int thrd_detach(thrd_t thread) {
  return c11_result(pthread_detach((pthread_t)thread));
}

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_settype(
      &attributes, (type & mtx_recursive) != 0 ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
  const int error = pthread_mutex_init((pthread_mutex_t*)mutex, &attributes);
  pthread_mutexattr_destroy(&attributes);
  return c11_result(error);
}

int mtx_lock(mtx_t* mutex) {
  return c11_result(pthread_mutex_lock((pthread_mutex_t*)mutex));
}

int mtx_trylock(mtx_t* mutex) {
  return c11_result(pthread_mutex_trylock((pthread_mutex_t*)mutex));
}

int mtx_timedlock(mtx_t* restrict mutex, const struct timespec* restrict deadline) {
  return c11_result(pthread_mutex_timedlock((pthread_mutex_t*)mutex, deadline));
}

int mtx_unlock(mtx_t* mutex) {
  return c11_result(pthread_mutex_unlock((pthread_mutex_t*)mutex));
}

void mtx_destroy(mtx_t* mutex) {
  pthread_mutex_destroy((pthread_mutex_t*)mutex);
}

int cnd_init(cnd_t* condition) {
  return c11_result(pthread_cond_init((pthread_cond_t*)condition, NULL));
}

int cnd_signal(cnd_t* condition) {
  return c11_result(pthread_cond_signal((pthread_cond_t*)condition));
}

int cnd_broadcast(cnd_t* condition) {
  return c11_result(pthread_cond_broadcast((pthread_cond_t*)condition));
}

int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return c11_result(pthread_cond_wait((pthread_cond_t*)condition, (pthread_mutex_t*)mutex));
}

int cnd_timedwait(cnd_t* restrict condition, mtx_t* restrict mutex,
                  const struct timespec* restrict deadline) {
  return c11_result(
      pthread_cond_timedwait((pthread_cond_t*)condition, (pthread_mutex_t*)mutex, deadline));
}

void cnd_destroy(cnd_t* condition) {
  pthread_cond_destroy((pthread_cond_t*)condition);
}

void call_once(once_flag* flag, void (*func)(void)) {
  pthread_once((pthread_once_t*)flag, func);
}
