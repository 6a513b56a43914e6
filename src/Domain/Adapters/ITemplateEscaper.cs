namespace RunbookPilot.Domain.Adapters;

/// <summary>
/// An adapter whose parameters are a language of their own (SPL, a URL template) escapes every value a template inserts
/// into them, so an alert value stays data. Adapters that build XML, JSON or URLs themselves escape while building.
/// </summary>
public interface ITemplateEscaper
{
    string EscapeTemplateValue(string parameter, string value);
}
