using IntegrationGateway.Gateway.Policy;
using System.Text.Json;
using System.Text.Json.Serialization;
using IntegrationGateway.Contracts;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>The event contracts' JSON shape (camelCase, nulls omitted), source-generated.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AbsenceReported))]
[JsonSerializable(typeof(StudentEnrolled))]
[JsonSerializable(typeof(StudentDeregistered))]
[JsonSerializable(typeof(AttendanceRegistered))]
[JsonSerializable(typeof(ExamResultRecorded))]
[JsonSerializable(typeof(DiplomaAwarded))]
[JsonSerializable(typeof(SupportPlanUpdated))]
[JsonSerializable(typeof(IntegrationIntakeCompleted))]
[JsonSerializable(typeof(LanguageTestResultRecorded))]
[JsonSerializable(typeof(CourseParticipationRecorded))]
[JsonSerializable(typeof(TemporaryProtectionRegistered))]
[JsonSerializable(typeof(PersonalDataRectified))]
[JsonSerializable(typeof(ErasureRequested))]
[JsonSerializable(typeof(ConsentChanged))]
[JsonSerializable(typeof(ObjectionLodged))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
internal sealed partial class EventJsonContext : JsonSerializerContext;

internal static class EventJson
{
    /// <summary>Duplicate property names are refused: a projection must not pick one of two values silently.</summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>The contract type of an event type name.</summary>
    public static Type ContractType(string eventType) =>
        EventCatalogue.Default.Types.TryGetValue(eventType, out var type) ? type : throw new ArgumentException($"'{eventType}' is not an event type", nameof(eventType));

    /// <summary>The event as the JSON document the policy engine projects from, in the contracts' wire shape.</summary>
    public static JsonDocument ToDocument<T>(T message)
        where T : class =>
        JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(message, typeof(T), EventJsonContext.Default), DocumentOptions);
}
