/* Reading the target process's memory from outside (process_vm_readv); never writes to it. */
#include "proc_mem.h"

#include <sys/uio.h>

int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	if (addr == 0)
		return -1;
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

int proc_mem_read_u64(pid_t pid, uint64_t addr, uint64_t *value)
{
	return proc_mem_read(pid, addr, value, sizeof(*value));
}
