# fallback: an ELF64 program (started by jhyve in 64-bit long mode, kernel mode) that executes the
# instructions KVM's emulator rejects on hosts without VMX/SVM, where jhyve must complete them itself:
# int3 (a #BP the guest handles), fwait, ldmxcsr and stmxcsr. On hosts with VMX/SVM they simply run.
# Prints on COM1, then powers off:
#   fallback test
#   breakpoint handled, return address ok
#   fwait done
#   mxcsr=1fa0
        .include "platform.inc"
        .equ    CR4_OSFXSR, 1 << 9     # without it SSE instructions (ldmxcsr among them) raise #UD
        .equ    CODE64_SELECTOR, 0x10   # jhyve's GDT (org.jhyve.firmware.LongModeSetup)
        .code64
        .text
        .globl  _start
_start:
        cld
        call    uart_init
        lea     title(%rip), %rsi
        call    puts

        # An IDT with handlers for #BP (3), #UD (6) and #GP (13): 16-byte interrupt gates.
        lea     bp_handler(%rip), %rax
        mov     $3, %ecx
        call    set_gate
        lea     ud_handler(%rip), %rax
        mov     $6, %ecx
        call    set_gate
        lea     gp_handler(%rip), %rax
        mov     $13, %ecx
        call    set_gate
        lidt    idtr(%rip)

        mov     %cr4, %rax
        or      $CR4_OSFXSR, %rax
        mov     %rax, %cr4

        int3                            # a trap: the handler sees the address after it
after_int3:
        fwait                           # no x87 exception pending: nothing to do but go on
        lea     fwait_done(%rip), %rsi
        call    puts

        movl    $0x1fa0, mxcsr_in(%rip) # round to -inf (RC=01) with every exception masked
        ldmxcsr mxcsr_in(%rip)
        stmxcsr mxcsr_out(%rip)
        lea     mxcsr_text(%rip), %rsi
        call    puts
        mov     mxcsr_out(%rip), %eax
        call    puthex16
        lea     crlf(%rip), %rsi
        call    puts

        power_off

# set_gate: IDT entry %ecx points at %rax (64-bit interrupt gate, DPL 0, present).
set_gate:
        lea     idt(%rip), %rdi
        shl     $4, %ecx
        add     %rcx, %rdi
        mov     %ax, (%rdi)
        movw    $CODE64_SELECTOR, 2(%rdi)
        movw    $0x8e00, 4(%rdi)        # type 0xE (interrupt gate), present
        shr     $16, %rax
        mov     %ax, 6(%rdi)
        shr     $16, %rax
        mov     %eax, 8(%rdi)
        movl    $0, 12(%rdi)
        ret

bp_handler:
        lea     bp_text(%rip), %rsi
        call    puts
        lea     after_int3(%rip), %rax
        cmp     (%rsp), %rax            # the saved RIP: right after the int3 byte
        lea     rip_ok(%rip), %rsi
        je      1f
        lea     rip_bad(%rip), %rsi
1:      call    puts
        iretq

ud_handler:
        lea     ud_text(%rip), %rsi
        jmp     fatal
gp_handler:
        lea     gp_text(%rip), %rsi
fatal:  call    puts
        power_off

        .include "console64.inc"

title:          .asciz "fallback test\r\n"
bp_text:        .asciz "breakpoint handled, "
rip_ok:         .asciz "return address ok\r\n"
rip_bad:        .asciz "return address WRONG\r\n"
fwait_done:     .asciz "fwait done\r\n"
mxcsr_text:     .asciz "mxcsr="
ud_text:        .asciz "#UD\r\n"
gp_text:        .asciz "#GP\r\n"
crlf:           .asciz "\r\n"

        .balign 16
idt:    .fill   16 * 16, 1, 0
idtr:   .word   16 * 16 - 1
        .quad   idt
        .balign 4
mxcsr_in:  .long 0
mxcsr_out: .long 0
