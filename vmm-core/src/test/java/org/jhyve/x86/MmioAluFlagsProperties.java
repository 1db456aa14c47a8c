package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.jhyve.hv.Registers;
import org.jhyve.x86.MmioBench.BusOp;
import org.jhyve.x86.MmioBench.FakeBus;

/**
 * For random group-1 operations, sizes and operands, "op [rax], rbx" on MMIO writes the result and sets the
 * six status flags as a reference computed on unbounded integers (BigInteger) says: CF as the unsigned result
 * leaving the operand's range, OF as the signed one leaving it, AF as the low nibbles' carry or borrow.
 */
class MmioAluFlagsProperties {
    private static final int[] SIZES = {1, 2, 4, 8};
    private static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

    @Property(tries = 600)
    void flagsMatchWideArithmetic(@ForAll @IntRange(min = 0, max = 7) int opEncoding,
                                  @ForAll @IntRange(min = 0, max = 3) int sizeIndex,
                                  @ForAll long memory, @ForAll long register, @ForAll boolean carry) {
        int size = SIZES[sizeIndex];
        String prefix = size == 2 ? "66 " : size == 8 ? "48 " : "";
        String hex = prefix + String.format("%02x 18", opEncoding << 3 | (size == 1 ? 0 : 1));
        Registers before = MmioBench.regs("rax=0xfee00030").withRbx(register);
        before = MmioBench.apply(before, "rflags=" + (0x2 | (carry ? 1 : 0)));
        FakeBus bus = new FakeBus(memory);

        MmioResult result = new MmioBench().emulate(hex, before, CpuStates.longMode(), bus);

        Reference expected = reference(opEncoding, memory, register, carry, size);
        assertThat(result).isInstanceOfSatisfying(MmioResult.Completed.class,
                c -> assertThat(c.registers().rflags()).as(hex).isEqualTo(0x2 | expected.flags()));
        if (opEncoding == 7) {
            assertThat(bus.ops()).hasSize(1);
        } else {
            assertThat(bus.ops()).element(1).isEqualTo(new BusOp(true, MmioBench.MMIO, size, expected.result()));
        }
    }

    private record Reference(long result, long flags) {}

    private static Reference reference(int op, long a, long b, boolean carry, int size) {
        int bits = 8 * size;
        BigInteger modulus = BigInteger.ONE.shiftLeft(bits);
        BigInteger ua = unsigned(a, bits);
        BigInteger ub = unsigned(b, bits);
        BigInteger sa = signed(a, bits);
        BigInteger sb = signed(b, bits);
        int c = carry && (op == 2 || op == 3) ? 1 : 0;
        long nibbleA = a & 0xF;
        long nibbleB = b & 0xF;
        BigInteger unsignedResult;
        BigInteger signedResult;
        long flags = 0;
        switch (op) {
            case 0, 2 -> {
                unsignedResult = ua.add(ub).add(BigInteger.valueOf(c));
                signedResult = sa.add(sb).add(BigInteger.valueOf(c));
                if (nibbleA + nibbleB + c > 0xF) flags |= AF;
            }
            case 3, 5, 7 -> {
                unsignedResult = ua.subtract(ub).subtract(BigInteger.valueOf(c));
                signedResult = sa.subtract(sb).subtract(BigInteger.valueOf(c));
                if (nibbleA < nibbleB + c) flags |= AF;
            }
            default -> {
                long r = op == 1 ? a | b : op == 4 ? a & b : a ^ b;
                unsignedResult = unsigned(r, bits);
                signedResult = signed(r, bits);
            }
        }
        if (unsignedResult.signum() < 0 || unsignedResult.compareTo(modulus) >= 0) flags |= CF;
        BigInteger half = BigInteger.ONE.shiftLeft(bits - 1);
        if (signedResult.compareTo(half.negate()) < 0 || signedResult.compareTo(half) >= 0) flags |= OF;
        BigInteger r = unsignedResult.mod(modulus);
        if (r.signum() == 0) flags |= ZF;
        if (r.testBit(bits - 1)) flags |= SF;
        int ones = 0;
        for (int i = 0; i < 8; i++) if (r.testBit(i)) ones++;
        if (ones % 2 == 0) flags |= PF;
        return new Reference(r.longValue(), flags);
    }

    private static BigInteger unsigned(long v, int bits) {
        return new BigInteger(Long.toUnsignedString(v)).mod(BigInteger.ONE.shiftLeft(bits));
    }

    private static BigInteger signed(long v, int bits) {
        BigInteger u = unsigned(v, bits);
        return u.testBit(bits - 1) ? u.subtract(BigInteger.ONE.shiftLeft(bits)) : u;
    }
}
