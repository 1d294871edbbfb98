// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * symtab.c - function names for code addresses, for the heap profile.
 *
 * The profile names every frame itself, so that `go tool pprof` needs
 * neither the binaries nor addr2line, and so that it works for static
 * programs, where dladdr() knows nothing. The loaded objects come from
 * dl_iterate_phdr() (the main program is the one whose program headers
 * are at AT_PHDR; its file is /proc/self/exe, so a program moved or
 * deleted since it started still resolves). Each object's file is mapped
 * read-only on first use and its ELF symbol table read: .symtab when the
 * file has one (static functions included), else .dynsym (exported
 * functions only, e.g. a stripped libc). A name is the function symbol
 * (STT_FUNC or STT_GNU_IFUNC) with the greatest address not above the
 * address, if the address lies within its size (or, for a symbol without a
 * size, before the next symbol).
 *
 * Every offset and index read from a file is bounds-checked against the
 * file's size: a truncated or hostile file only means no names.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "profile.h"

/* A symbol without a size covers at most this much. */
#define KGC_SYM_NOSIZE_MAX	(1UL << 20)

struct sym {
	uintptr_t value;
	uintptr_t size;
	const char *name;
	bool global;
};

/**
 * struct symobj - a loaded object
 * @path: file to read the symbols from
 * @name: its name for addresses without a symbol
 * @bias: load address (symbol values are relative to it)
 * @lo: first address of its segments
 * @hi: one past the last
 * @loaded: the file was looked at (successfully or not)
 * @map: the file, mapped read-only
 * @maplen: its length
 * @syms: function symbols, by address
 * @nsyms: how many
 */
struct symobj {
	char *path;
	char *name;
	uintptr_t bias;
	uintptr_t lo;
	uintptr_t hi;
	bool loaded;
	void *map;
	size_t maplen;
	struct sym *syms;
	size_t nsyms;
};

struct kgc_symbolizer {
	struct symobj *objs;
	size_t n;
	size_t cap;
	bool oom;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct kgc_symbolizer *s = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	const char *path = info->dlpi_name;
	struct symobj *o;
	char exe[4096];
	ssize_t len;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (lo >= hi)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		o = realloc(s->objs, cap * sizeof(*o));
		if (!o) {
			s->oom = true;
			return 1;
		}
		s->objs = o;
		s->cap = cap;
	}
	o = &s->objs[s->n];
	memset(o, 0, sizeof(*o));
	if ((uintptr_t)info->dlpi_phdr == getauxval(AT_PHDR)) {
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[len > 0 ? len : 0] = '\0';
		o->path = strdup("/proc/self/exe");
		o->name = strdup(exe[0] ? exe : "main");
	} else {
		if (!path || !*path)
			path = "?";
		o->path = strdup(path);
		o->name = strdup(path);
	}
	if (!o->path || !o->name) {
		free(o->path);
		free(o->name);
		s->oom = true;
		return 1;
	}
	o->bias = info->dlpi_addr;
	o->lo = lo;
	o->hi = hi;
	s->n++;
	return 0;
}

/**
 * kgc_symbolizer_new() - the objects loaded now
 *
 * Return: a symbolizer, or NULL when out of memory.
 */
struct kgc_symbolizer *kgc_symbolizer_new(void)
{
	struct kgc_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	dl_iterate_phdr(phdr_cb, s);
	if (s->oom) {
		kgc_symbolizer_free(s);
		return NULL;
	}
	return s;
}

/** kgc_symbolizer_free() - unmap the files, free the names */
void kgc_symbolizer_free(struct kgc_symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->objs[i].map)
			munmap(s->objs[i].map, s->objs[i].maplen);
		free(s->objs[i].syms);
		free(s->objs[i].path);
		free(s->objs[i].name);
	}
	free(s->objs);
	free(s);
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	/* At one address: global names first, then those with a size. */
	if (x->global != y->global)
		return x->global ? -1 : 1;
	if (!x->size != !y->size)
		return x->size ? -1 : 1;
	return 0;
}

/* Section header @i (all are inside the file, checked), or NULL. */
static const Elf64_Shdr *elf_section(const unsigned char *f,
				     const Elf64_Ehdr *eh, size_t i)
{
	if (i >= eh->e_shnum)
		return NULL;
	return (const Elf64_Shdr *)(f + eh->e_shoff + i * sizeof(Elf64_Shdr));
}

static bool elf_within(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Read the function symbols of @f (@len bytes) into @o. */
static void elf_read_syms(struct symobj *o, const unsigned char *f,
			  size_t len)
{
	const Elf64_Shdr *sh, *strsh, *tab = NULL;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	const Elf64_Sym *syms;
	const char *strs;
	size_t i, n, k = 0;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !elf_within(len, eh->e_shoff,
			(uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
	    eh->e_shoff % 8)
		return;
	for (i = 0; i < eh->e_shnum; i++) {
		sh = elf_section(f, eh, i);
		if (sh->sh_type == SHT_SYMTAB) {
			tab = sh;
			break;
		}
		if (sh->sh_type == SHT_DYNSYM && !tab)
			tab = sh;
	}
	if (!tab || tab->sh_entsize != sizeof(Elf64_Sym) ||
	    !elf_within(len, tab->sh_offset, tab->sh_size) ||
	    tab->sh_offset % 8)
		return;
	strsh = elf_section(f, eh, tab->sh_link);
	if (!strsh || strsh->sh_type != SHT_STRTAB ||
	    !elf_within(len, strsh->sh_offset, strsh->sh_size))
		return;
	syms = (const Elf64_Sym *)(f + tab->sh_offset);
	strs = (const char *)f + strsh->sh_offset;
	n = tab->sh_size / sizeof(Elf64_Sym);
	o->syms = malloc((n ? n : 1) * sizeof(*o->syms));
	if (!o->syms)
		return;
	for (i = 0; i < n; i++) {
		const Elf64_Sym *y = &syms[i];
		unsigned int type = ELF64_ST_TYPE(y->st_info);

		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    y->st_shndx == SHN_UNDEF || !y->st_value ||
		    y->st_name >= strsh->sh_size ||
		    !memchr(strs + y->st_name, '\0',
			    strsh->sh_size - y->st_name) ||
		    !strs[y->st_name])
			continue;
		o->syms[k].value = y->st_value;
		o->syms[k].size = y->st_size;
		o->syms[k].name = strs + y->st_name;
		o->syms[k].global = ELF64_ST_BIND(y->st_info) != STB_LOCAL;
		k++;
	}
	qsort(o->syms, k, sizeof(*o->syms), sym_cmp);
	/* One symbol per address: the first after sorting. */
	for (i = 0, n = 0; i < k; i++)
		if (!n || o->syms[n - 1].value != o->syms[i].value)
			o->syms[n++] = o->syms[i];
	o->nsyms = n;
}

static void symobj_load(struct symobj *o)
{
	struct stat st;
	void *map;
	int fd;

	o->loaded = true;
	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	o->map = map;
	o->maplen = (size_t)st.st_size;
	elf_read_syms(o, map, o->maplen);
}

static const char *symobj_lookup(const struct symobj *o, uintptr_t rel)
{
	size_t lo = 0, hi = o->nsyms, mid;
	const struct sym *y;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (o->syms[mid].value <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	y = &o->syms[lo - 1];
	if (y->size)
		return rel - y->value < y->size ? y->name : NULL;
	return rel - y->value < KGC_SYM_NOSIZE_MAX ? y->name : NULL;
}

const char *kgc_symbolize(struct kgc_symbolizer *s, uintptr_t addr,
			  const char **obj, uintptr_t *off)
{
	struct symobj *o = NULL;
	size_t i;

	if (obj)
		*obj = NULL;
	if (off)
		*off = 0;
	for (i = 0; s && i < s->n; i++)
		if (addr >= s->objs[i].lo && addr < s->objs[i].hi) {
			o = &s->objs[i];
			break;
		}
	if (!o)
		return NULL;
	if (obj)
		*obj = o->name;
	if (off)
		*off = addr - o->bias;
	if (!o->loaded)
		symobj_load(o);
	return o->nsyms ? symobj_lookup(o, addr - o->bias) : NULL;
}
