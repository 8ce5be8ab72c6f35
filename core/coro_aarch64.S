/* core/coro_aarch64.S — the raw context switch for aarch64 (AAPCS64).
 *
 * A suspended context is its saved stack pointer (il__coro_t.sp, offset 0);
 * the callee-saved registers sit on its stack, from the saved sp upwards:
 *
 *   sp+0    x19 .. x28
 *   sp+80   x29 (frame pointer), x30 (link register: where to resume)
 *   sp+96   d8 .. d15
 *
 * FPCR is not switched (writing it can be slow and nothing here changes
 * it); a context that changes the rounding mode changes it for all. No
 * syscalls. Both symbols are hidden so they never leave libinterloop.so. */

	.text

/* void il__coro_arch_switch(il__coro_t *from, il__coro_t *to)
 * x0 = from, x1 = to */
	.globl	il__coro_arch_switch
	.hidden	il__coro_arch_switch
	.type	il__coro_arch_switch, %function
	.p2align 4
il__coro_arch_switch:
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	ret
	.size	il__coro_arch_switch, .-il__coro_arch_switch

/* void il__coro_arch_make(il__coro_t *c, void *lo, size_t size,
 *                         il__coro_start_fn start, il__coro_entry_fn entry,
 *                         void *arg)
 * x0 = c, x1 = lo, x2 = size, x3 = start, x4 = entry, x5 = arg.
 * Builds a frame that il__coro_arch_switch "returns" from into
 * coro_trampoline with x19 = start, x20 = entry, x21 = arg and sp 16-byte
 * aligned at the top of the stack. */
	.globl	il__coro_arch_make
	.hidden	il__coro_arch_make
	.type	il__coro_arch_make, %function
	.p2align 4
il__coro_arch_make:
	add	x9, x1, x2
	and	x9, x9, #~15
	sub	x9, x9, #160
	stp	x3, x4, [x9, #0]	/* x19 = start, x20 = entry */
	stp	x5, xzr, [x9, #16]	/* x21 = arg */
	stp	xzr, xzr, [x9, #32]
	stp	xzr, xzr, [x9, #48]
	stp	xzr, xzr, [x9, #64]
	adr	x10, coro_trampoline
	stp	xzr, x10, [x9, #80]	/* x29 = 0 ends frame walks, x30 */
	stp	xzr, xzr, [x9, #96]
	stp	xzr, xzr, [x9, #112]
	stp	xzr, xzr, [x9, #128]
	stp	xzr, xzr, [x9, #144]
	str	x9, [x0]
	ret
	.size	il__coro_arch_make, .-il__coro_arch_make

/* The first code a context runs: start(entry, arg), which never returns.
 * The undefined return address tells unwinders the stack ends here. */
	.type	coro_trampoline, %function
	.p2align 4
coro_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	mov	x1, x21
	blr	x19
	brk	#0
	.cfi_endproc
	.size	coro_trampoline, .-coro_trampoline

	.section .note.GNU-stack,"",%progbits
