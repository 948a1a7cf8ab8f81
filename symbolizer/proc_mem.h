/* Reading the target process's memory from outside (process_vm_readv); never writes to it. */
#ifndef PYRACE_PROC_MEM_H
#define PYRACE_PROC_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly `len` bytes at `addr` of process `pid`. 0 on success, -1 otherwise. */
int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int proc_mem_read_u64(pid_t pid, uint64_t addr, uint64_t *value);

#endif
