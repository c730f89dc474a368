import Data
import XCTest

final class PromptTemplateTests: XCTestCase {
    func test_defaultTemplate_isThePapers() {
        XCTAssertEqual(PromptTemplate.xright.format, "User: {prompt}\nAssistant: ")
        XCTAssertEqual(PromptTemplate.xright.apply(to: "Name a colour."), "User: Name a colour.\nAssistant: ")
        XCTAssertEqual(PromptTemplate.raw.apply(to: "Name a colour."), "Name a colour.")
    }

    func test_parsing_acceptsNamesAndCustomTextWithEscapes() throws {
        XCTAssertEqual(try PromptTemplate(parsing: "xright"), .xright)
        XCTAssertEqual(try PromptTemplate(parsing: "alpaca"), .alpaca)
        let custom = try PromptTemplate(parsing: #"Q: {prompt}\nA:\t"#)
        XCTAssertNil(custom.name)
        XCTAssertEqual(custom.apply(to: "why?"), "Q: why?\nA:\t")
        XCTAssertEqual(try PromptTemplate(parsing: #"C:\\{prompt}"#).apply(to: "x"), #"C:\x"#)
    }

    func test_parsing_rejectsTextWithoutExactlyOnePlaceholder() {
        for (text, message) in [
            ("chatml", #"--template: "chatml" is neither a template name (xright, raw, alpaca, hh) nor a custom template containing {prompt}"#),
            ("{prompt} and {prompt}", "--template: the template contains {prompt} 2 times; it must appear exactly once"),
        ] {
            XCTAssertThrowsError(try PromptTemplate(parsing: text)) { error in
                XCTAssertEqual((error as? DataOptionError)?.description, message)
            }
        }
        XCTAssertThrowsError(try PromptTemplate(format: "no placeholder"))
    }

    func test_render_formatsEarlierTurnsWithTheSameTemplate() {
        let context = [Turn(.system, "Be brief."), Turn(.user, "Hi"), Turn(.assistant, "Hello.")]
        XCTAssertEqual(PromptTemplate.xright.render(prompt: "Bye", context: context),
                       "Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Bye\nAssistant: ")
        XCTAssertEqual(PromptTemplate.raw.render(prompt: "Bye", context: context), "Be brief.\nHi\nHello.\nBye")
        XCTAssertEqual(PromptTemplate.hh.render(prompt: "Bye", context: Array(context.dropFirst())),
                       "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Bye\n\nAssistant: ")
    }
}
