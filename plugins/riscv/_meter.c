/* rollupkit_riscv._meter: the instruction meter, as a Unicorn block hook in C.
 *
 * Unicorn calls a block hook each time a translated block starts. Counting its instructions
 * (size / 4: RV32IM instructions are all 4 bytes) and stopping the emulator past a limit
 * costs a few nanoseconds here, where a Python hook costs ~400 ns a block. The module only
 * exports the hook's address; rollupkit_riscv.machine registers it with uc_hook_add through
 * ctypes and shares the Meter struct with Python. It needs no Unicorn headers: the struct
 * carries a pointer to uc_emu_stop.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef int (*stop_fn)(void *uc);

typedef struct {
    uint64_t executed;   /* instructions of the blocks that ran */
    uint64_t limit;      /* a block that would take executed past this does not run */
    stop_fn stop;        /* uc_emu_stop */
    uint64_t pending;    /* the instructions of the block that was stopped */
    uint32_t misaligned; /* set when a block starts at an address that is not 4-byte aligned */
    uint32_t stopped;    /* set when this hook stopped Unicorn */
} meter_t;

/* Unicorn calls this before a block runs; a block whose hook stops Unicorn does not run (and
 * resuming at the same pc runs it, calling this again), so a block is counted only when it
 * is allowed to run. */
static void block_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    meter_t *m = (meter_t *)user_data;
    uint64_t n = size >> 2;
    if ((address | size) & 3) {
        m->misaligned = 1;
    } else if (m->executed + n <= m->limit) {
        m->executed += n;
        return;
    }
    m->pending = n;
    m->stopped = 1;
    m->stop(uc);
}

static struct PyModuleDef meter_module = {
    PyModuleDef_HEAD_INIT, "_meter", "The instruction meter's Unicorn block hook.", -1, NULL,
};

PyMODINIT_FUNC PyInit__meter(void) {
    PyObject *module = PyModule_Create(&meter_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObject(module, "BLOCK_HOOK", PyLong_FromVoidPtr((void *)&block_hook)) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
