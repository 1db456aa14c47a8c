# The start of jhyve's benchmark guests (see ../c/bench.h): a PVH entry, so that jhyve and QEMU (-kernel)
# boot the very same binary, then long mode with page tables whose every level is user-accessible, the
# exception stubs, and the return to user mode (CPL3) the hot loops run in.
#
# PVH (Xen's docs/misc/pvh.pandoc): 32-bit protected mode, paging off, flat CS/DS, EBX = hvm_start_info,
# no stack and no GDT we may keep. On hosts without VMX/SVM every instruction here is emulated, so the set-up
# is short: the first 4 GiB are mapped with 2 MiB pages (2048 entries), anything above by bench.c on demand.

        .set CODE64, 0x08
        .set DATA, 0x10
        .set CODE32, 0x18
        .set PAGE_USER_TABLE, 0x07          # present, writable, user
        .set PAGE_USER_2M, 0x87             # present, writable, user, 2 MiB page
        .set CR4_PAE, 0x20
        .set MSR_EFER, 0xc0000080
        .set EFER_LME, 0x100
        .set CR0_PG_PE, 0x80000001

        .include "pvh-note.inc"
        .include "trap-frame.inc"

        .text
        .code32
        .globl pvh_start
pvh_start:
        cli
        cld
        lgdt gdt_pointer
        ljmp $CODE32, $1f
1:      mov $DATA, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        mov %eax, %fs
        mov %eax, %gs
        mov $boot_stack_top, %esp

        # Four page directories of 2 MiB pages for [0, 4 GiB), identity-mapped.
        mov $page_dirs, %edi
        mov $PAGE_USER_2M, %eax
        xor %edx, %edx
        mov $2048, %ecx
2:      mov %eax, (%edi)
        mov %edx, 4(%edi)
        add $0x200000, %eax
        adc $0, %edx
        add $8, %edi
        dec %ecx
        jnz 2b
        # PDPT[0..3] -> the directories; PML4[0] -> the PDPT.
        mov $page_dirs + PAGE_USER_TABLE, %eax
        mov %eax, pdpt
        add $4096, %eax
        mov %eax, pdpt + 8
        add $4096, %eax
        mov %eax, pdpt + 16
        add $4096, %eax
        mov %eax, pdpt + 24
        movl $pdpt + PAGE_USER_TABLE, pml4

        mov %cr4, %eax
        or $CR4_PAE, %eax
        mov %eax, %cr4
        mov $pml4, %eax
        mov %eax, %cr3
        mov $MSR_EFER, %ecx
        rdmsr
        or $EFER_LME, %eax
        wrmsr
        mov %cr0, %eax
        or $CR0_PG_PE, %eax
        mov %eax, %cr0
        ljmp $CODE64, $long_mode

        .code64
long_mode:
        mov $DATA, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        mov $boot_stack_top, %rsp
        mov %ebx, %edi                      # the hvm_start_info, zero-extended
        call bench_start                    # never returns
3:      jmp 3b

# enter_user(rip, rsp): to CPL3 at rip with stack rsp, interrupts off (IOPL 0: port I/O goes through the
# TSS's all-zero permission bitmap). Never returns.
        .globl enter_user
enter_user:
        pushq $0x23                         # SS: user data, RPL 3
        pushq %rsi
        pushq $0x2                          # RFLAGS: IF = 0
        pushq $0x2b                         # CS: user code, RPL 3
        pushq %rdi
        iretq

# triple_fault(): ends the VM where no power-off port exists (QEMU's q35 has its ACPI block elsewhere):
# with an empty IDT, the #GP of a non-canonical load cannot be delivered, nor the double fault after it.
        .globl triple_fault
triple_fault:
        lidt empty_idt
        movabs $0x8000000000000000, %rax
        mov (%rax), %rax
4:      jmp 4b

# Exception stubs: each pushes a zero where the CPU pushes no error code, then its vector, so that
# bench_trap always sees the same frame (struct trap_frame in bench.h).
        .macro stub vector, has_error
trap_\vector:
        .if \has_error == 0
        pushq $0
        .endif
        pushq $\vector
        jmp trap_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
        stub \v, 0
        .endr
        .irp v, 8,10,11,12,13,14,17,21,29,30
        stub \v, 1
        .endr

trap_common:
        trap_frame_call bench_trap

        .section .rodata
        .balign 8
        .globl trap_stubs
trap_stubs:                                 # the IDT's targets for vectors 0-31, read by bench.c
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad trap_\v
        .endr

        .data
        .balign 16
        .globl gdt, gdt_tss
gdt:
        .quad 0
        .quad 0x00af9a000000ffff            # 0x08: kernel code, 64-bit
        .quad 0x00cf92000000ffff            # 0x10: kernel data
        .quad 0x00cf9a000000ffff            # 0x18: kernel code, 32-bit (the PVH part above)
        .quad 0x00cff2000000ffff            # 0x20: user data (selector 0x23)
        .quad 0x00affa000000ffff            # 0x28: user code, 64-bit (selector 0x2b)
gdt_tss:
        .quad 0, 0                          # 0x30: the TSS, filled in by bench.c
gdt_end:
        .balign 8
        .globl gdt_pointer
gdt_pointer:
        .word gdt_end - gdt - 1
        .quad gdt
empty_idt:
        .word 0
        .quad 0

        .bss
        .balign 4096
        .globl pml4, pdpt
pml4:   .skip 4096
pdpt:   .skip 4096
page_dirs:
        .skip 4 * 4096
        .balign 16
        .skip 16384
boot_stack_top:
