/* okx_trio._book_side_c: the book engine's merge loop in C (optional, sans-IO).
 *
 * quick(levels) is the check pass alone (for snapshots, which the engine installs in
 * Python). merge() does exactly what Side.merge_all's quick check followed by
 * Side.merge_checked do in okx_trio/_book_side.py (that file is the specification; the
 * tests hold the two to each other on random and garbage input):
 *
 *   1. The check pass. Every level must be a tuple or list of four, the price an exact
 *      str, the size an exact str in OKX's plain form by the quick test ("0", or ASCII
 *      digits with at most one point between digits, no leading zero, at most 99
 *      characters), the order count an exact str of 1 to 3 ASCII digits without a leading
 *      zero. If any level fails, merge() returns False and has changed nothing: the caller
 *      takes the careful path (parse_level per level), which refuses with a message or
 *      accepts a rarer valid form.
 *   2. The merge pass: OKX's rule per level, in order, into the side's three views (keys,
 *      raws, index; see _book_side.py). A price text not in the side's index takes its key
 *      from PRICE_KEYS, or from key_of(px, sz, orders), which checks it and raises BadLevel
 *      for a price the engine refuses; the exception propagates with the side partly
 *      merged (the engine then drops the whole book, as it does for the Python loop).
 *
 * Why C: the check of every level is what made the pure-Python engine slower than an
 * unchecked dict (bench/book_micro.py); in C the check costs a few nanoseconds a level.
 * The package works without this module (setup.py builds it as optional).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Cell slots (_book_side.Cell): [price, size, orders, level, key, token]. */
enum { C_PRICE = 0, C_SIZE = 1, C_ORDERS = 2, C_LEVEL = 3, C_KEY = 4, C_TOKEN = 5, C_LEN = 6 };

/* The size quick test of Side.merge_all, on an exact str. */
static int
size_ok(PyObject *sz)
{
    if (!PyUnicode_IS_ASCII(sz)) {
        return 0;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(sz);
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(sz);
    if (n == 1 && s[0] == '0') {
        return 1;
    }
    if (n == 0 || n > 99) {
        return 0;
    }
    int points = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (++points > 1) {
                return 0;
            }
        }
        else if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    /* 1-9 first, or "0." (so no leading zero and no leading point); no trailing point. */
    if (!(s[0] > '0' || (n > 1 && s[1] == '.'))) {
        return 0;
    }
    return s[n - 1] != '.';
}

/* An order count in ORDER_COUNTS (str(n) for n in range(1000)), on an exact str. */
static int
orders_ok(PyObject *orders)
{
    if (!PyUnicode_IS_ASCII(orders)) {
        return 0;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(orders);
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(orders);
    if (n < 1 || n > 3 || (n > 1 && s[0] == '0')) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* A checked size is zero when it has no digit but 0. */
static int
size_zero(PyObject *sz)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(sz);
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(sz);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] != '0' && s[i] != '.') {
            return 0;
        }
    }
    return 1;
}

/* bisect.bisect_left over the side's keys (floats, ascending). */
static Py_ssize_t
bisect_left(PyObject *keys, double key)
{
    Py_ssize_t lo = 0, hi = PyList_GET_SIZE(keys);
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (PyFloat_AS_DOUBLE(PyList_GET_ITEM(keys, mid)) < key) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

static PyObject *
new_cell(PyObject *px, PyObject *sz, PyObject *orders, PyObject *key, PyObject *token)
{
    PyObject *cell = PyList_New(C_LEN);
    if (cell == NULL) {
        return NULL;
    }
    PyObject *items[C_LEN] = {px, sz, orders, Py_None, key, token};
    for (int i = 0; i < C_LEN; i++) {
        Py_INCREF(items[i]);
        PyList_SET_ITEM(cell, i, items[i]);
    }
    return cell;
}

/* Replace item i of a list by value (a new reference is taken). */
static void
set_item(PyObject *list, Py_ssize_t i, PyObject *value)
{
    PyObject *old = PyList_GET_ITEM(list, i);
    Py_INCREF(value);
    PyList_SET_ITEM(list, i, value);
    Py_DECREF(old);
}

static int
del_item(PyObject *list, Py_ssize_t i)
{
    return PyList_SetSlice(list, i, i + 1, NULL);
}

static int merge_found_or_new(PyObject *px, PyObject *sz, PyObject *orders, PyObject *keys,
                              PyObject *raws, PyObject *index, PyObject *token, int negate,
                              PyObject *price_keys, PyObject *key_of);

/* The merge pass for one checked level; 0, or -1 with an exception set. */
static int
merge_level(PyObject *level, PyObject *keys, PyObject *raws, PyObject *index, PyObject *token,
            int negate, PyObject *price_keys, PyObject *key_of)
{
    PyObject **item = PySequence_Fast_ITEMS(level);
    PyObject *px = item[0], *sz = item[1], *orders = item[3];
    Py_INCREF(px);
    Py_INCREF(sz);
    Py_INCREF(orders);
    int rc = merge_found_or_new(px, sz, orders, keys, raws, index, token, negate, price_keys,
                                key_of);
    Py_DECREF(px);
    Py_DECREF(sz);
    Py_DECREF(orders);
    return rc;
}

/* merge_level's body, with px, sz and orders held by the caller. */
static int
merge_found_or_new(PyObject *px, PyObject *sz, PyObject *orders, PyObject *keys, PyObject *raws,
                   PyObject *index, PyObject *token, int negate, PyObject *price_keys,
                   PyObject *key_of)
{
    int zero = size_zero(sz);
    PyObject *cell = PyDict_GetItemWithError(index, px); /* borrowed */
    if (cell != NULL) { /* the price, as written before: no parse */
        if (!PyList_CheckExact(cell) || PyList_GET_SIZE(cell) != C_LEN) {
            PyErr_SetString(PyExc_TypeError, "book side index holds a malformed cell");
            return -1;
        }
        PyObject *cell_key = PyList_GET_ITEM(cell, C_KEY);
        if (zero) {
            Py_ssize_t i = bisect_left(keys, PyFloat_AS_DOUBLE(cell_key));
            if (del_item(keys, i) < 0 || del_item(raws, i) < 0) {
                return -1;
            }
            return PyDict_DelItem(index, px);
        }
        if (PyList_GET_ITEM(cell, C_TOKEN) == token) { /* made since the last view */
            set_item(cell, C_SIZE, sz);
            set_item(cell, C_ORDERS, orders);
            set_item(cell, C_LEVEL, Py_None);
            return 0;
        }
        /* A view may hold it: a new cell in its place. */
        PyObject *fresh = new_cell(px, sz, orders, cell_key, token);
        if (fresh == NULL) {
            return -1;
        }
        Py_ssize_t at = bisect_left(keys, PyFloat_AS_DOUBLE(cell_key));
        if (at >= PyList_GET_SIZE(raws)) {
            Py_DECREF(fresh);
            PyErr_SetString(PyExc_SystemError, "book side index and keys disagree");
            return -1;
        }
        set_item(raws, at, fresh);
        int rc = PyDict_SetItem(index, px, fresh);
        Py_DECREF(fresh);
        return rc;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    /* A text not in the side: a new price, or one there written another way ("100.0" for
     * "100"); a zero for a price not there is harmless. */
    PyObject *known = PyDict_GetItemWithError(price_keys, px); /* borrowed */
    PyObject *key_obj;
    if (known != NULL) {
        Py_INCREF(known);
        key_obj = known;
    }
    else if (PyErr_Occurred()) {
        return -1;
    }
    else {
        key_obj = PyObject_CallFunctionObjArgs(key_of, px, sz, orders, NULL);
        if (key_obj == NULL) {
            return -1;
        }
    }
    if (!PyFloat_Check(key_obj)) {
        Py_DECREF(key_obj);
        PyErr_SetString(PyExc_TypeError, "a price key must be a float");
        return -1;
    }
    double key = PyFloat_AS_DOUBLE(key_obj);
    if (negate) {
        Py_DECREF(key_obj);
        key = -key;
        key_obj = PyFloat_FromDouble(key);
        if (key_obj == NULL) {
            return -1;
        }
    }
    int rc = 0;
    Py_ssize_t i = bisect_left(keys, key);
    if (i < PyList_GET_SIZE(keys) && PyFloat_AS_DOUBLE(PyList_GET_ITEM(keys, i)) == key) {
        PyObject *there = PyList_GET_ITEM(raws, i);
        if (PyDict_DelItem(index, PyList_GET_ITEM(there, C_PRICE)) < 0) {
            rc = -1;
        }
        else if (zero) {
            rc = (del_item(keys, i) < 0 || del_item(raws, i) < 0) ? -1 : 0;
        }
        else {
            PyObject *fresh = new_cell(px, sz, orders, key_obj, token);
            if (fresh == NULL) {
                rc = -1;
            }
            else {
                set_item(raws, i, fresh);
                rc = PyDict_SetItem(index, px, fresh);
                Py_DECREF(fresh);
            }
        }
    }
    else if (!zero) {
        PyObject *fresh = new_cell(px, sz, orders, key_obj, token);
        if (fresh == NULL) {
            rc = -1;
        }
        else {
            if (PyList_Insert(keys, i, key_obj) < 0 || PyList_Insert(raws, i, fresh) < 0 ||
                PyDict_SetItem(index, px, fresh) < 0) {
                rc = -1;
            }
            Py_DECREF(fresh);
        }
    }
    Py_DECREF(key_obj);
    return rc;
}

/* The check pass over a PySequence_Fast of levels: 1 if every level passes. */
static int
all_quick(PyObject *seq)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *level = items[i];
        if (!(PyTuple_CheckExact(level) || PyList_CheckExact(level)) || Py_SIZE(level) != 4) {
            return 0;
        }
        PyObject **f = PySequence_Fast_ITEMS(level);
        if (!PyUnicode_CheckExact(f[0]) || !PyUnicode_CheckExact(f[1]) ||
            !PyUnicode_CheckExact(f[3]) || !size_ok(f[1]) || !orders_ok(f[3])) {
            return 0;
        }
    }
    return 1;
}

PyDoc_STRVAR(quick_doc,
"quick(levels) -> bool\n\n"
"Whether every level passes Side.merge_all's quick check (see _book_side.py).");

static PyObject *
quick(PyObject *Py_UNUSED(module), PyObject *levels)
{
    PyObject *seq = PySequence_Fast(levels, "levels must be a sequence");
    if (seq == NULL) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    int ok = all_quick(seq);
    Py_DECREF(seq);
    return PyBool_FromLong(ok);
}

PyDoc_STRVAR(merge_doc,
"merge(levels, keys, raws, index, token, negate, price_keys, key_of) -> bool\n\n"
"Side.merge_all's quick check and Side.merge_checked in one call (see _book_side.py).\n"
"False, with nothing changed, if a level fails the quick check; True once merged.\n"
"Raises what key_of raises (BadLevel), with the side partly merged.");

static PyObject *
merge(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "merge() takes 8 arguments, got %zd", nargs);
        return NULL;
    }
    PyObject *levels = args[0], *keys = args[1], *raws = args[2], *index = args[3];
    PyObject *token = args[4], *price_keys = args[6], *key_of = args[7];
    int negate = PyObject_IsTrue(args[5]);
    if (negate < 0) {
        return NULL;
    }
    if (!PyList_CheckExact(keys) || !PyList_CheckExact(raws) || !PyDict_CheckExact(index) ||
        !PyDict_CheckExact(price_keys)) {
        PyErr_SetString(PyExc_TypeError, "merge() needs the side's lists and dicts");
        return NULL;
    }
    if (PyList_GET_SIZE(keys) != PyList_GET_SIZE(raws)) {
        PyErr_SetString(PyExc_SystemError, "book side keys and raws disagree");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(levels, "levels must be a sequence");
    if (seq == NULL) {
        PyErr_Clear(); /* not a sequence: the careful path says what is wrong */
        Py_RETURN_FALSE;
    }
    if (!all_quick(seq)) {
        Py_DECREF(seq);
        Py_RETURN_FALSE;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    /* The merge pass. The levels stay as checked: the only Python code it runs is key_of
     * (the library's own, which does not touch them), and merge_level holds references to
     * the strings it uses. */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (merge_level(items[i], keys, raws, index, token, negate, price_keys, key_of) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"merge", (PyCFunction)(void (*)(void))merge, METH_FASTCALL, merge_doc},
    {"quick", quick, METH_O, quick_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "okx_trio._book_side_c",
    "The book engine's merge loop in C (optional; see _book_side.py).",
    0,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__book_side_c(void)
{
    return PyModule_Create(&module);
}
