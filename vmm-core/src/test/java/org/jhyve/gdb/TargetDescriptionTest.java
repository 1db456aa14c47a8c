package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** target.xml parsed as XML: well-formed, numbered as {@code g} sends, and every type it names defined. */
class TargetDescriptionTest {
    /** The types gdb predefines for target descriptions (gdb manual, "Predefined Target Types"), the ones used here. */
    private static final Set<String> PREDEFINED = Set.of("int", "int8", "int16", "int32", "int64", "uint128",
            "code_ptr", "data_ptr", "i387_ext", "ieee_single", "ieee_double");

    private static Document xml;

    @BeforeAll
    static void parse() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        var builder = f.newDocumentBuilder();
        // The DOCTYPE names gdb's DTD, which gdb has and we do not: well-formedness is what is checked here.
        builder.setEntityResolver((publicId, systemId) -> new InputSource(new StringReader("")));
        xml = builder.parse(new ByteArrayInputStream(TargetDescription.XML.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void registersAreNumberedInGOrderAndAddUpToTheGReply() {
        List<Element> regs = elements(xml.getDocumentElement(), "reg");
        assertThat(regs).hasSize(X86Registers.ALL.size()).hasSize(59);
        int bits = 0;
        for (int n = 0; n < regs.size(); n++) {
            assertThat(regs.get(n).getAttribute("regnum")).isEqualTo(Integer.toString(n));
            assertThat(regs.get(n).getAttribute("name")).isEqualTo(X86Registers.ALL.get(n).name());
            bits += Integer.parseInt(regs.get(n).getAttribute("bitsize"));
        }
        assertThat(bits / 8).isEqualTo(X86Registers.TOTAL_BYTES);
    }

    @Test
    void theSseFeatureHoldsXmm0To15AndMxcsrBetweenTheX87RegistersAndTheSegmentBases() {
        List<Element> features = elements(xml.getDocumentElement(), "feature");
        assertThat(features).extracting(e -> e.getAttribute("name"))
                .containsExactly("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments");
        List<Element> sse = elements(features.get(1), "reg");
        assertThat(sse).extracting(e -> e.getAttribute("name")).containsExactly("xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "mxcsr");
        assertThat(sse.getFirst().getAttribute("regnum")).as("gdb's amd64 number for xmm0").isEqualTo("40");
        assertThat(sse.subList(0, 16)).allSatisfy(r -> {
            assertThat(r.getAttribute("bitsize")).isEqualTo("128");
            assertThat(r.getAttribute("type")).isEqualTo("vec128");
        });
        Element mxcsr = sse.getLast();
        assertThat(mxcsr.getAttribute("regnum")).isEqualTo("56");
        assertThat(mxcsr.getAttribute("bitsize")).isEqualTo("32");
        assertThat(mxcsr.getAttribute("type")).isEqualTo("i386_mxcsr");
        assertThat(mxcsr.getAttribute("group")).isEqualTo("vector");
        assertThat(elements(features.get(2), "reg").getFirst().getAttribute("regnum")).as("fs_base").isEqualTo("57");
    }

    @Test
    void vec128IsAUnionOfVectorViewsAndMxcsrNamesItsBits() {
        Element sse = elements(xml.getDocumentElement(), "feature").get(1);
        Element union = elements(sse, "union").getFirst();
        assertThat(union.getAttribute("id")).isEqualTo("vec128");
        assertThat(elements(union, "field")).extracting(e -> e.getAttribute("name"))
                .containsExactly("v4_float", "v2_double", "v16_int8", "v8_int16", "v4_int32", "v2_int64", "uint128");
        Element flags = elements(sse, "flags").getFirst();
        assertThat(flags.getAttribute("id")).isEqualTo("i386_mxcsr");
        assertThat(flags.getAttribute("size")).isEqualTo("4");
        assertThat(elements(flags, "field")).extracting(e -> e.getAttribute("name"))
                .contains("IE", "DAZ", "IM", "PM", "FZ").hasSize(14);
    }

    @Test
    void everyTypeUsedIsPredefinedOrDefinedBeforeItsUseInTheSameFeature() {
        for (Element feature : elements(xml.getDocumentElement(), "feature")) {
            Set<String> known = new HashSet<>(PREDEFINED);
            NodeList all = feature.getElementsByTagName("*");
            for (int i = 0; i < all.getLength(); i++) {
                Element e = (Element) all.item(i);
                if (!e.getAttribute("type").isEmpty()) {
                    assertThat(known).as(e.getTagName() + " " + e.getAttribute("name") + e.getAttribute("id"))
                            .contains(e.getAttribute("type"));
                }
                if (!e.getAttribute("id").isEmpty()) known.add(e.getAttribute("id"));
            }
        }
    }

    private static List<Element> elements(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        List<Element> list = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) list.add((Element) nodes.item(i));
        return list;
    }
}
