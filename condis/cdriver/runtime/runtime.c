/*
 * runtime.c - the part of condis linked into every C driver image by `condis cc`.
 *
 * A driver image calls NDIS through exports.c, which forwards each routine through condis_ops,
 * the table the C bridge installs when it loads the image. This file holds what the image keeps
 * for itself: the table, the routines that are plain C (DbgPrint's formatting,
 * NdisGetDataBuffer), and the snapshot that lets the bridge give each new load of the image
 * fresh global variables, as a fresh load of a driver on Windows has.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include "ndis.h"
#include "ops.h"

struct condis_ops condis_ops;
PVOID condis_caller;

/* ---- installing the bridge ---- */

/* The bridge calls this right after loading the image, before DriverEntry. */
__attribute__((visibility("default"))) void condis_attach(const struct condis_ops *ops)
{
    condis_ops = *ops;
}

/* The return address of the last NDIS routine the driver called: the bridge turns it into the
   driver's file and line when a call breaks a rule. */
__attribute__((visibility("default"))) PVOID condis_last_caller(void)
{
    return condis_caller;
}

/* ---- fresh globals for each load ---- */

struct segment {
    unsigned char *start;
    size_t length;
    unsigned char *saved;
};

static struct segment condis_segments[8];
static int condis_segment_count;

static int condis_find_segments(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const unsigned char *self = data;
    ElfW(Addr) relro_start = 0, relro_end = 0;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        ElfW(Addr) start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (const unsigned char *)start <= self &&
            self < (const unsigned char *)(start + ph->p_memsz)) {
            mine = 1;
        }
        if (ph->p_type == PT_GNU_RELRO) {
            relro_start = start;
            relro_end = start + ph->p_memsz;
        }
    }
    if (!mine) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum && condis_segment_count < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) {
            continue;
        }
        ElfW(Addr) start = info->dlpi_addr + ph->p_vaddr;
        ElfW(Addr) end = start + ph->p_memsz;
        if (start < relro_end && end > relro_start) {    /* read-only after relocation: skip it */
            start = relro_end > start ? relro_end : start;
        }
        if (end <= start) {
            continue;
        }
        condis_segments[condis_segment_count].start = (unsigned char *)start;
        condis_segments[condis_segment_count].length = end - start;
        condis_segment_count++;
    }
    return 1;
}

/* A byte copy AddressSanitizer does not check: the snapshot spans the image's whole writable data,
   the poisoned red zones ASan puts between globals included. */
__attribute__((no_sanitize_address)) static void condis_copy(unsigned char *to, const unsigned char *from, size_t n)
{
    volatile unsigned char *t = to;
    while (n--) {
        *t++ = *from++;
    }
}

/* Copy the image's writable data as the loader left it (called once, before any driver code). */
__attribute__((visibility("default"), no_sanitize_address)) int condis_snapshot(void)
{
    if (condis_segment_count == 0) {
        dl_iterate_phdr(condis_find_segments, (void *)&condis_segment_count);
    }
    for (int i = 0; i < condis_segment_count; i++) {
        struct segment *s = &condis_segments[i];
        s->saved = malloc(s->length);
        if (s->saved == NULL) {
            return 0;
        }
        condis_copy(s->saved, s->start, s->length);
    }
    return condis_segment_count;
}

/* Put the writable data back as it was at load, for the image's next use; the segment table
   itself lives in that data, so it is copied aside first. */
__attribute__((visibility("default"), no_sanitize_address)) void condis_restore(void)
{
    struct segment segments[8];
    int count = condis_segment_count;
    condis_copy((unsigned char *)segments, (const unsigned char *)condis_segments, sizeof(segments));
    for (int i = 0; i < count; i++) {
        condis_copy(segments[i].start, segments[i].saved, segments[i].length);
    }
    condis_copy((unsigned char *)condis_segments, (const unsigned char *)segments, sizeof(segments));
    condis_segment_count = count;
}

/* ---- plain C routines ---- */

ULONG DbgPrint(PCSTR Format, ...)
{
    char text[1024];
    va_list args;
    va_start(args, Format);
    vsnprintf(text, sizeof(text), Format, args);
    va_end(args);
    condis_caller = __builtin_return_address(0);
    condis_ops.CondisDebugPrint(text);
    return 0;
}

PVOID NdisGetDataBuffer(PNET_BUFFER NetBuffer, ULONG BytesNeeded, PVOID Storage, UINT AlignMultiple,
                        UINT AlignOffset)
{
    PMDL mdl = NetBuffer->CurrentMdl;
    ULONG offset = NetBuffer->CurrentMdlOffset;
    ULONG copied = 0;
    PUCHAR out = Storage;

    (void)AlignOffset;
    if (BytesNeeded == 0 || BytesNeeded > NetBuffer->DataLength || mdl == NULL) {
        return NULL;
    }
    if (mdl->ByteCount - offset >= BytesNeeded &&
        (AlignMultiple <= 1 || ((ULONG_PTR)((PUCHAR)mdl->MappedSystemVa + offset) % AlignMultiple) == 0)) {
        return (PUCHAR)mdl->MappedSystemVa + offset;
    }
    if (Storage == NULL) {
        return NULL;
    }
    while (mdl != NULL && copied < BytesNeeded) {
        ULONG take = mdl->ByteCount - offset;
        if (take > BytesNeeded - copied) {
            take = BytesNeeded - copied;
        }
        memcpy(out + copied, (PUCHAR)mdl->MappedSystemVa + offset, take);
        copied += take;
        offset = 0;
        mdl = mdl->Next;
    }
    return copied == BytesNeeded ? Storage : NULL;
}
