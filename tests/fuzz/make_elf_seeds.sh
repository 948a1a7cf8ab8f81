#!/bin/bash
# Regenerates the crafted seeds of fuzz_elf in tests/fuzz/corpus/fuzz_elf/:
#   fake_python.so    exports what interp_inspect() looks for in a CPython 3.11 core (objects,
#                     probed functions, a GCC clone name, a static function in .symtab, endbr64
#                     prologues, a build id) and names "interp.debug" as its .gnu_debuglink,
#                     which fuzz_elf links to the input itself;
#   fake_python_user  needs libpython3.so from its $ORIGIN run path, which fuzz_elf links to the
#                     input itself.
# Real seeds (/bin/true, the _queue extension) are plain copies.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cat >fake.c <<'C'
unsigned char _PyRuntime[1024];
const unsigned int Py_Version = 0x030b02f0;
char PyDict_Type[400], PyUnicode_Type[400], PyLong_Type[400], PyCode_Type[400];
char _Py_TrueStruct[32];
#define F(name) void name(void) { __asm__ volatile("nop"); }
#define CLONE(id, sym) void id(void) __asm__(sym); void id(void) { __asm__ volatile("nop"); }
CLONE(insertdict_clone, "insertdict.lto_priv.0")
CLONE(dict_pop_clone, "dict_pop.isra.0")
CLONE(dict_merge_part, "dict_merge.part.0")
F(insert_to_emptydict) F(PyDict_DelItem) F(dict_popitem) F(PyDict_Clear) F(PyDict_SetDefault)
F(_Py_dict_lookup) F(PyDict_Contains) F(dict_get) F(module_init_dict)
F(lock_PyThread_acquire_lock) F(lock_PyThread_release_lock) F(rlock_acquire) F(rlock_release)
F(PyThread_start_new_thread) F(Py_FinalizeEx)
static void dict_dealloc(void) { __asm__ volatile("nop"); }
void (*keep_dealloc)(void) = dict_dealloc;
C
: >interp.debug
gcc -shared -fPIC -O1 -fcf-protection=full -nostdlib -Wl,--build-id -Wl,-z,norelro \
	-o fake_python.so fake.c
objcopy --add-gnu-debuglink=interp.debug fake_python.so
echo 'void Py_Initialize(void) {}' >lp.c
gcc -shared -fPIC -Wl,-soname,libpython3.so -o libpython3.so lp.c
echo 'int main(void) { return 0; }' >user.c
gcc -O1 -o fake_python_user user.c -L. -Wl,--no-as-needed -lpython3 -Wl,-rpath,'$ORIGIN' \
	-Wl,--enable-new-dtags
strip fake_python_user
mkdir -p "$out"
cp fake_python.so fake_python_user "$out/"
cp /bin/true "$out/true"
cp /usr/lib/python3.11/lib-dynload/_queue.cpython-311-x86_64-linux-gnu.so "$out/_queue.so"
